-- local_ts(ts): a naive timestamp read as local time in the project zone
-- ({tz}, filled by duckdb_suite.py), as an instant. Run before load.sql or
-- load_parquet.sql, which both use it.
--
-- DuckDB's ICU maps an ambiguous local time (the repeated autumn hour) to its
-- *second* occurrence; kpi takes the first (docs/language.md, "Periods"), so
-- local_ts moves such a value back by the hour when that hour reads as the
-- same local time. A time in the spring gap is moved forward by the gap by
-- ICU, as kpi does.
CREATE MACRO local_ts(ts) AS (
    CASE WHEN timezone('{tz}', timezone('{tz}', ts) - INTERVAL 1 HOUR) = ts
         THEN timezone('{tz}', ts) - INTERVAL 1 HOUR
         ELSE timezone('{tz}', ts)
    END);
