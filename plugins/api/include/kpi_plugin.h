/*
 * kpi plugin ABI, version 1.0 — the C view of the kpi-plugin-api crate.
 *
 * A plugin is a shared library exporting
 *     const KpiPluginDescriptor *kpi_plugin_entry(void);
 * The descriptor and everything it points to must stay valid for the life of
 * the process: kpi never unloads a plugin.
 *
 * Columns use the Arrow C Data Interface layout; the schema of each column is
 * implied by its KpiType. Input arrays belong to kpi and are only borrowed
 * during a call. The output array belongs to the plugin until kpi calls its
 * release callback. Errors are written into kpi's KpiErrorBuffer.
 */
#ifndef KPI_PLUGIN_H
#define KPI_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KPI_ABI_MAJOR 1u
#define KPI_ABI_MINOR 0u
#define KPI_ABI_VERSION ((KPI_ABI_MAJOR << 16) | KPI_ABI_MINOR)

/* Value types. Layouts: INT, TIMESTAMP (microseconds since the epoch, UTC)
 * and DURATION (microseconds) are int64; FLOAT is double (finite values
 * only); BOOL is bit-packed; STRING is UTF-8 with int32 offsets. */
enum KpiType {
    KPI_INT = 1,
    KPI_FLOAT = 2,
    KPI_BOOL = 3,
    KPI_STRING = 4,
    KPI_TIMESTAMP = 5,
    KPI_DURATION = 6
};

enum KpiFunctionKind {
    KPI_SCALAR = 1,    /* one value per row */
    KPI_AGGREGATE = 2  /* one value per group of rows */
};

/* A UTF-8 string, not necessarily NUL-terminated. */
typedef struct KpiStr {
    const uint8_t *ptr;
    size_t len;
} KpiStr;

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
/* From the Arrow C Data Interface specification. */
struct ArrowSchema;
struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};
#endif

/* kpi-owned buffer for an error message (UTF-8, truncated to capacity). */
typedef struct KpiErrorBuffer {
    uint8_t *data;
    size_t capacity;
    size_t len;
} KpiErrorBuffer;

/* Return 0 and fill *out on success; non-zero and write *err on failure. */
typedef int32_t (*KpiScalarFn)(const struct ArrowArray *const *args, size_t n_args, int64_t n_rows,
                               struct ArrowArray *out, KpiErrorBuffer *err);
/* groups[i] in [0, n_groups) is the group of row i; *out has n_groups values. */
typedef int32_t (*KpiAggregateFn)(const struct ArrowArray *const *args, size_t n_args, int64_t n_rows,
                                  const uint32_t *groups, int64_t n_groups,
                                  struct ArrowArray *out, KpiErrorBuffer *err);

typedef struct KpiFunctionDescriptor {
    KpiStr name;
    KpiStr doc;
    uint32_t kind;             /* enum KpiFunctionKind */
    const uint32_t *arg_types; /* n_args values of enum KpiType */
    size_t n_args;
    uint32_t return_type;      /* enum KpiType */
    KpiScalarFn scalar;        /* set for KPI_SCALAR, else NULL */
    KpiAggregateFn aggregate;  /* set for KPI_AGGREGATE, else NULL */
} KpiFunctionDescriptor;

typedef struct KpiPluginDescriptor {
    uint32_t size;             /* sizeof(KpiPluginDescriptor) */
    uint32_t abi_version;      /* KPI_ABI_VERSION */
    KpiStr name;
    KpiStr version;
    const KpiFunctionDescriptor *functions;
    size_t n_functions;
    KpiStr definitions;        /* TOML metric definitions, may be empty */
} KpiPluginDescriptor;

const KpiPluginDescriptor *kpi_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* KPI_PLUGIN_H */
