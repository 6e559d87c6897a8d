/* Small helpers over jansson for writing results: stable numbers, escaped
 * strings, the metadata every result carries (rt-tests' rt_write_json), and
 * an atomic file writer. They never print. */
#ifndef RTV_UTIL_JSON_H
#define RTV_UTIL_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Reals are dumped with 15 significant digits, so a value rounded by
 * rtv_json_set_num() prints as its decimal ("0.1", not jansson's default
 * "0.10000000000000001"); 15 is DBL_DIG, the most that survives the round
 * trip through a double. Add it to any other flags used to dump results. */
#define RTV_JSON_PRECISION JSON_REAL_PRECISION(15)

/* The dump flags of every JSON rtvnet writes: two-space indent, keys in
 * insertion order (jansson 2.8 and later always keep it; never sorted). */
#define RTV_JSON_DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | RTV_JSON_PRECISION)

/* obj[key] = v rounded to 3 decimals (half away from zero), so output is
 * stable when dumped with RTV_JSON_PRECISION; integral results are written as integers ("1", not "1.0"), NaN and
 * infinities as null. Returns 0, -EINVAL (obj not an object, bad key) or
 * -ENOMEM. */
int rtv_json_set_num(json_t *obj, const char *key, double v);

/* The same value as a new JSON number (or null), for arrays and nesting. */
json_t *rtv_json_num(double v);

/* obj[key] = v as an integer. Returns 0 or -errno as above. */
int rtv_json_set_int(json_t *obj, const char *key, int64_t v);

/* obj[key] = a copy of s, or null when s is NULL. Bytes that are not valid
 * UTF-8 become U+FFFD; jansson escapes quotes, backslashes and control
 * characters when dumping. Returns 0 or -errno as above. */
int rtv_json_set_str(json_t *obj, const char *key, const char *s);

/* Format a CLOCK_REALTIME time in ns as ISO-8601 UTC with milliseconds,
 * "2025-01-31T23:59:59.123Z" (truncated, not rounded, to the millisecond).
 * Returns the length or -ENOSPC (buf needs 25 bytes) or -EOVERFLOW. */
int rtv_json_time_format(int64_t realtime_ns, char *buf, size_t len);

/* A new object with the run's metadata, in this order: tool ("rtvnet"),
 * version, kernel (uname release), machine (uname machine), cpus (online),
 * cmdline (argv joined with spaces; arguments other than plain words are
 * single-quoted as a shell would need), start and end (ISO-8601 UTC, see
 * rtv_json_time_format). The caller owns the reference (json_decref). NULL
 * when out of memory. */
json_t *rtv_json_meta_new(int argc, char **argv, int64_t start_realtime_ns,
			  int64_t end_realtime_ns);

/* A results document, {"meta": meta, "config": config, key: value, ...},
 * the pairs after config ending at a NULL key. Takes the reference to meta,
 * config and every value whatever happens (each may be NULL, when out of
 * memory: then the document is). NULL when out of memory. */
json_t *rtv_json_doc(json_t *meta, json_t *config, ...);

/* Write root to path atomically: dump to "<path>.tmp", fsync, rename over
 * path. Creates the parent directory (one level, mode 0755) when missing.
 * Dumped with RTV_JSON_DUMP_FLAGS and a final newline. Returns 0 or -errno. */
int rtv_json_write_file(json_t *root, const char *path);

#endif
