/* Unit tests for lib/util/json.c: escaping, stable numbers, the metadata
 * object and the atomic writer. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/json.h"

#ifndef RTV_VERSION
#define RTV_VERSION "unknown"
#endif

/* The dump of obj[key] alone, compact, with rtvnet's precision; the caller
 * frees it. */
static char *dump_key(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	assert_non_null(v);
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | RTV_JSON_PRECISION);
}

static void expect_str(const char *in, const char *dumped)
{
	json_t *obj = json_object();
	char *s;

	assert_int_equal(rtv_json_set_str(obj, "k", in), 0);
	s = dump_key(obj, "k");
	assert_string_equal(s, dumped);
	free(s);
	json_decref(obj);
}

static void test_set_str(void **state)
{
	(void)state;
	expect_str("plain", "\"plain\"");
	expect_str("say \"hi\"", "\"say \\\"hi\\\"\"");
	expect_str("C:\\dir\\", "\"C:\\\\dir\\\\\"");
	expect_str("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"");
	expect_str("\x01\x1f\x7f", "\"\\u0001\\u001F\x7f\"");
	expect_str("/", "\"/\"");
	/* UTF-8 passes through as it is */
	expect_str("\xc2\xb5s caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		   "\"\xc2\xb5s caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* bytes that are not UTF-8 become U+FFFD */
	expect_str("a\xff" "b", "\"a\xef\xbf\xbd" "b\"");
	expect_str("\xc3", "\"\xef\xbf\xbd\"");
	expect_str("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"");      /* overlong '/' */
	expect_str("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* surrogate */
	expect_str("", "\"\"");
	expect_str(NULL, "null");
}

static void expect_num(double v, const char *dumped)
{
	json_t *obj = json_object();
	char *s;

	assert_int_equal(rtv_json_set_num(obj, "k", v), 0);
	s = dump_key(obj, "k");
	assert_string_equal(s, dumped);
	free(s);
	json_decref(obj);
}

static void test_set_num(void **state)
{
	(void)state;
	expect_num(1.0, "1");
	expect_num(0.1234, "0.123");
	expect_num(0.1236, "0.124");
	expect_num(NAN, "null");
	expect_num(INFINITY, "null");
	expect_num(-INFINITY, "null");
	expect_num(0.0, "0");
	expect_num(-0.0, "0");
	expect_num(-0.0004, "0");
	expect_num(2.5, "2.5");
	expect_num(-1.5, "-1.5");
	expect_num(0.1, "0.1");
	expect_num(0.3, "0.3");
	expect_num(0.1 + 0.2, "0.3");
	expect_num(1234567.001, "1234567.001");
	expect_num(1.9999, "2");
	expect_num(123456.78949, "123456.789");
	expect_num(42e6, "42000000");
	expect_num(-7.0, "-7");
	expect_num(1e20, "1e20");
	/* the type follows: integral values are integers */
	{
		json_t *obj = json_object();

		assert_int_equal(rtv_json_set_num(obj, "a", 3.0), 0);
		assert_int_equal(rtv_json_set_num(obj, "b", 3.25), 0);
		assert_true(json_is_integer(json_object_get(obj, "a")));
		assert_true(json_is_real(json_object_get(obj, "b")));
		json_decref(obj);
	}
}

static void test_set_int(void **state)
{
	json_t *obj = json_object();
	char *s;

	(void)state;
	assert_int_equal(rtv_json_set_int(obj, "max", INT64_MAX), 0);
	assert_int_equal(rtv_json_set_int(obj, "min", INT64_MIN), 0);
	assert_int_equal(rtv_json_set_int(obj, "neg", -1), 0);
	s = json_dumps(obj, JSON_COMPACT);
	assert_string_equal(s, "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"neg\":-1}");
	free(s);
	json_decref(obj);
}

static void test_set_errors(void **state)
{
	json_t *arr = json_array(), *obj = json_object();

	(void)state;
	assert_int_equal(rtv_json_set_num(arr, "k", 1), -EINVAL);
	assert_int_equal(rtv_json_set_int(NULL, "k", 1), -EINVAL);
	assert_int_equal(rtv_json_set_str(arr, "k", "v"), -EINVAL);
	assert_int_equal(rtv_json_set_str(obj, NULL, "v"), -EINVAL);
	assert_int_equal(rtv_json_set_int(obj, "bad\xff", 1), -EINVAL);
	assert_int_equal(json_object_size(obj), 0);
	json_decref(arr);
	json_decref(obj);
}

static void test_dump_order(void **state)
{
	json_t *obj = json_object();
	char *s;

	(void)state;
	assert_int_equal(rtv_json_set_str(obj, "zeta", "z"), 0);
	assert_int_equal(rtv_json_set_num(obj, "alpha", 0.5), 0);
	assert_int_equal(rtv_json_set_int(obj, "mid", 3), 0);
	assert_int_equal(rtv_json_set_num(obj, "nan", NAN), 0);
	/* setting a key again keeps its place */
	assert_int_equal(rtv_json_set_int(obj, "zeta", 1), 0);
	s = json_dumps(obj, RTV_JSON_DUMP_FLAGS);
	assert_string_equal(s, "{\n"
			       "  \"zeta\": 1,\n"
			       "  \"alpha\": 0.5,\n"
			       "  \"mid\": 3,\n"
			       "  \"nan\": null\n"
			       "}");
	free(s);
	json_decref(obj);
}

static void expect_time(int64_t ns, const char *want)
{
	char buf[32];

	assert_int_equal(rtv_json_time_format(ns, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
}

static void test_time_format(void **state)
{
	char buf[25];

	(void)state;
	expect_time(0, "1970-01-01T00:00:00.000Z");
	expect_time(INT64_C(1700000000123456789), "2023-11-14T22:13:20.123Z");
	expect_time(INT64_C(1700000000999999999), "2023-11-14T22:13:20.999Z");
	expect_time(-1, "1969-12-31T23:59:59.999Z");
	expect_time(-INT64_C(1000000000), "1969-12-31T23:59:59.000Z");
	assert_int_equal(rtv_json_time_format(0, buf, sizeof(buf)), 24);
	assert_int_equal(rtv_json_time_format(0, buf, 24), -ENOSPC);
	assert_int_equal(rtv_json_time_format(0, buf, 0), -ENOSPC);
}

static void test_meta(void **state)
{
	static const char *const keys[] = { "tool", "version", "kernel", "machine",
					    "cpus", "cmdline", "start", "end" };
	char *argv[] = { "rtvnet", "netrt", "--name", "a b", "it's", "", "--x=\"q\"", "caf\xc3\xa9", NULL };
	struct utsname uts;
	json_t *meta;
	void *it;
	size_t i = 0;

	(void)state;
	assert_int_equal(uname(&uts), 0);
	meta = rtv_json_meta_new(8, argv, INT64_C(1700000000123456789), INT64_C(1700000020456000000));
	assert_non_null(meta);
	assert_int_equal(json_object_size(meta), 8);
	for (it = json_object_iter(meta); it; it = json_object_iter_next(meta, it))
		assert_string_equal(json_object_iter_key(it), keys[i++]);
	assert_int_equal(i, 8);
	assert_string_equal(json_string_value(json_object_get(meta, "tool")), "rtvnet");
	assert_string_equal(json_string_value(json_object_get(meta, "version")), RTV_VERSION);
	assert_string_equal(json_string_value(json_object_get(meta, "kernel")), uts.release);
	assert_string_equal(json_string_value(json_object_get(meta, "machine")), uts.machine);
	assert_int_equal(json_integer_value(json_object_get(meta, "cpus")), sysconf(_SC_NPROCESSORS_ONLN));
	assert_string_equal(json_string_value(json_object_get(meta, "cmdline")),
			    "rtvnet netrt --name 'a b' 'it'\\''s' '' '--x=\"q\"' caf\xc3\xa9");
	assert_string_equal(json_string_value(json_object_get(meta, "start")), "2023-11-14T22:13:20.123Z");
	assert_string_equal(json_string_value(json_object_get(meta, "end")), "2023-11-14T22:13:40.456Z");
	json_decref(meta);

	/* no arguments: an empty command line */
	meta = rtv_json_meta_new(0, NULL, 0, 0);
	assert_non_null(meta);
	assert_string_equal(json_string_value(json_object_get(meta, "cmdline")), "");
	json_decref(meta);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void test_write_file(void **state)
{
	char base[] = "/tmp/rtv-test-json.XXXXXX", dir[64], path[96], tmp[112], deep[128],
	     notdir[112];
	json_t *root = json_object();
	struct stat st, old_st;
	char *text;
	int fd;

	(void)state;
	umask(022);
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/results", base);
	snprintf(path, sizeof(path), "%s/run.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(rtv_json_set_str(root, "name", "x"), 0);
	assert_int_equal(rtv_json_set_num(root, "p99_us", 12.3456), 0);

	/* the missing directory is created, 0755 */
	assert_int_equal(rtv_json_write_file(root, path), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	text = read_all(path);
	assert_string_equal(text, "{\n  \"name\": \"x\",\n  \"p99_us\": 12.346\n}\n");
	free(text);
	assert_int_equal(access(tmp, F_OK), -1);

	/* atomic: the new file replaces the old by rename, so a reader holding
	 * the old one still sees it whole, and no .tmp is left behind */
	assert_int_equal(stat(path, &old_st), 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(rtv_json_set_int(root, "name", 2), 0);
	assert_int_equal(rtv_json_write_file(root, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_ino != old_st.st_ino);
	{
		char old[64] = "";

		assert_int_equal(read(fd, old, sizeof(old) - 1), (ssize_t)old_st.st_size);
		assert_string_equal(old, "{\n  \"name\": \"x\",\n  \"p99_us\": 12.346\n}\n");
	}
	close(fd);
	text = read_all(path);
	assert_string_equal(text, "{\n  \"name\": 2,\n  \"p99_us\": 12.346\n}\n");
	free(text);
	assert_int_equal(access(tmp, F_OK), -1);

	/* a stale .tmp from a crash is overwritten */
	fd = open(tmp, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage", 7), 7);
	close(fd);
	assert_int_equal(rtv_json_write_file(root, path), 0);
	assert_int_equal(access(tmp, F_OK), -1);

	/* one level only; errors come back as -errno */
	snprintf(deep, sizeof(deep), "%s/a/b/run.json", base);
	assert_int_equal(rtv_json_write_file(root, deep), -ENOENT);
	snprintf(notdir, sizeof(notdir), "%s/x", path);
	assert_int_equal(rtv_json_write_file(root, notdir), -ENOTDIR);
	assert_int_equal(rtv_json_write_file(NULL, path), -EINVAL);
	assert_int_equal(rtv_json_write_file(root, ""), -EINVAL);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(rmdir(base), 0);
	json_decref(root);
}

/* A results document: keys in order, every reference taken, NULL when a
 * part is missing (out of memory). */
static void test_doc(void **state)
{
	json_t *v = json_integer(7), *doc;
	char *text;

	(void)state;
	json_incref(v); /* one reference is the document's */
	doc = rtv_json_doc(json_object(), json_object(), "runs", json_array(), "x", v, NULL);
	assert_non_null(doc);
	text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_COMPACT);
	assert_string_equal(text, "{\"meta\":{},\"config\":{},\"runs\":[],\"x\":7}");
	free(text);
	assert_int_equal(v->refcount, 2);
	json_decref(doc);
	assert_int_equal(v->refcount, 1);
	/* a missing part: NULL, and the others' references dropped */
	assert_null(rtv_json_doc(json_object(), json_object(), "runs", NULL, "x", json_incref(v),
				 NULL));
	assert_null(rtv_json_doc(NULL, json_object(), "x", json_incref(v), NULL));
	assert_int_equal(v->refcount, 1);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc),
		cmocka_unit_test(test_set_str),
		cmocka_unit_test(test_set_num),
		cmocka_unit_test(test_set_int),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_dump_order),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_write_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
