/*
 * A kpi plugin written in C against plugins/api/include/kpi_plugin.h: it
 * proves the ABI is language-neutral. Functions:
 *   words(string) -> int        number of space-separated words (null for null)
 *   fails(int) -> float         always fails with a message
 *   not_a_number(int) -> float  returns NaN (the host must refuse it)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kpi_plugin.h"

struct owned {
    uint8_t *validity;
    void *values;
    const void *buffers[2];
};

static void release_owned(struct ArrowArray *a) {
    struct owned *o = (struct owned *)a->private_data;
    if (o) {
        free(o->validity);
        free(o->values);
        free(o);
    }
    a->private_data = NULL;
    a->release = NULL;
}

/* A fixed-width output array of n 8-byte values, all valid until cleared. */
static void *new_output(struct ArrowArray *out, int64_t n, struct owned **holder) {
    struct owned *o = calloc(1, sizeof *o);
    o->validity = calloc((size_t)(n + 7) / 8 + 1, 1);
    o->values = calloc((size_t)n + 1, 8);
    o->buffers[0] = o->validity;
    o->buffers[1] = o->values;
    out->length = n;
    out->null_count = 0;
    out->offset = 0;
    out->n_buffers = 2;
    out->n_children = 0;
    out->buffers = o->buffers;
    out->children = NULL;
    out->dictionary = NULL;
    out->release = release_owned;
    out->private_data = o;
    *holder = o;
    return o->values;
}

static int is_valid(const struct ArrowArray *a, int64_t i) {
    const uint8_t *v = (const uint8_t *)a->buffers[0];
    int64_t j = a->offset + i;
    return v == NULL || ((v[j / 8] >> (j % 8)) & 1);
}

static void set_valid(struct owned *o, int64_t i) { o->validity[i / 8] |= (uint8_t)(1u << (i % 8)); }

static void error(KpiErrorBuffer *err, const char *msg) {
    size_t n = strlen(msg);
    if (n > err->capacity) n = err->capacity;
    memcpy(err->data, msg, n);
    err->len = n;
}

static int32_t words(const struct ArrowArray *const *args, size_t n_args, int64_t n_rows,
                     struct ArrowArray *out, KpiErrorBuffer *err) {
    if (n_args != 1) { error(err, "words takes one argument"); return 1; }
    const struct ArrowArray *s = args[0];
    const int32_t *offsets = (const int32_t *)s->buffers[1];
    const char *data = (const char *)s->buffers[2];
    struct owned *o;
    int64_t *values = new_output(out, n_rows, &o);
    int64_t nulls = 0;
    for (int64_t i = 0; i < n_rows; i++) {
        if (!is_valid(s, i)) { nulls++; continue; }
        int64_t j = s->offset + i, count = 0;
        int in_word = 0;
        for (int32_t k = offsets[j]; k < offsets[j + 1]; k++) {
            int space = data[k] == ' ';
            if (!space && !in_word) count++;
            in_word = !space;
        }
        values[i] = count;
        set_valid(o, i);
    }
    out->null_count = nulls;
    return 0;
}

static int32_t fails(const struct ArrowArray *const *args, size_t n_args, int64_t n_rows,
                     struct ArrowArray *out, KpiErrorBuffer *err) {
    (void)args; (void)n_args; (void)n_rows; (void)out;
    error(err, "the C plugin refuses to work today");
    return 7;
}

static int32_t not_a_number(const struct ArrowArray *const *args, size_t n_args, int64_t n_rows,
                            struct ArrowArray *out, KpiErrorBuffer *err) {
    (void)args; (void)n_args; (void)err;
    struct owned *o;
    double *values = new_output(out, n_rows, &o);
    for (int64_t i = 0; i < n_rows; i++) {
        values[i] = NAN;
        set_valid(o, i);
    }
    return 0;
}

#define STR(s) { (const uint8_t *)(s), sizeof(s) - 1 }

static const uint32_t STRING_ARG[] = { KPI_STRING };
static const uint32_t INT_ARG[] = { KPI_INT };

static const KpiFunctionDescriptor FUNCTIONS[] = {
    { STR("words"), STR("Number of space-separated words."), KPI_SCALAR, STRING_ARG, 1, KPI_INT, words, NULL },
    { STR("fails"), STR("Always fails."), KPI_SCALAR, INT_ARG, 1, KPI_FLOAT, fails, NULL },
    { STR("not_a_number"), STR("Returns NaN."), KPI_SCALAR, INT_ARG, 1, KPI_FLOAT, not_a_number, NULL },
};

static const char DEFINITIONS[] =
    "[metric.message_words]\n"
    "title = \"Words per customer message\"\n"
    "formula = 'avg(messages: words(body) where author_role == \"customer\")'\n"
    "unit = \"count\"\n"
    "description = \"Mean number of words in customer messages (from the C example plugin).\"\n";

static const KpiPluginDescriptor DESCRIPTOR = {
    sizeof(KpiPluginDescriptor),
#ifdef KPI_TEST_ABI
    KPI_TEST_ABI,
#else
    KPI_ABI_VERSION,
#endif
    STR("cwords"),
    STR("1.0.0"),
    FUNCTIONS,
    sizeof FUNCTIONS / sizeof FUNCTIONS[0],
    { (const uint8_t *)DEFINITIONS, sizeof DEFINITIONS - 1 },
};

#ifndef KPI_TEST_NO_ENTRY
const KpiPluginDescriptor *kpi_plugin_entry(void) { return &DESCRIPTOR; }
#else
const KpiPluginDescriptor *some_other_symbol(void) { return &DESCRIPTOR; }
#endif
