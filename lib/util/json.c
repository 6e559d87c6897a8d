/* JSON helpers over jansson; see json.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "util/json.h"
#include "util/banned.h"

#ifndef RTV_VERSION
#define RTV_VERSION "unknown"
#endif

/* obj[key] = val, taking the reference to val in every case. */
static int set_new(json_t *obj, const char *key, json_t *val)
{
	if (!json_is_object(obj) || !key) {
		json_decref(val);
		return -EINVAL;
	}
	if (!val)
		return -ENOMEM;
	/* jansson drops val's reference when this fails (key not UTF-8) */
	if (json_object_set_new(obj, key, val) < 0)
		return -EINVAL;
	return 0;
}

json_t *rtv_json_num(double v)
{
	double r;

	if (!isfinite(v))
		return json_null();
	/* rounded to 3 decimals, half away from zero; from 1e15 on a double
	 * has no thousandths left to round */
	r = fabs(v) < 1e15 ? round(v * 1000.0) / 1000.0 : v;
	/* integral values below 2^53 are exact as integers; -0.0 becomes 0 */
	if (r == floor(r) && fabs(r) < 9007199254740992.0)
		return json_integer((json_int_t)r);
	return json_real(r);
}

int rtv_json_set_num(json_t *obj, const char *key, double v)
{
	return set_new(obj, key, rtv_json_num(v));
}

int rtv_json_set_int(json_t *obj, const char *key, int64_t v)
{
	return set_new(obj, key, json_integer((json_int_t)v));
}

/* The length of the valid UTF-8 sequence at s (1-4), or 0 when the byte at s
 * does not start one (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/* A copy of s with every byte that is not part of valid UTF-8 replaced by
 * U+FFFD; NULL when out of memory. */
static char *utf8_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), off = 0, n;
	char *out;

	/* each bad byte grows to three */
	out = malloc(len * 3 + 1);
	if (!out)
		return NULL;
	while (*p) {
		n = utf8_len(p);
		if (n) {
			memcpy(out + off, p, n);
			off += n;
			p += n;
		} else {
			memcpy(out + off, "\xef\xbf\xbd", 3);
			off += 3;
			p++;
		}
	}
	out[off] = '\0';
	return out;
}

int rtv_json_set_str(json_t *obj, const char *key, const char *s)
{
	json_t *val;
	char *clean;

	if (!s)
		return set_new(obj, key, json_null());
	val = json_string(s);
	if (!val) {
		/* not UTF-8: argv and file names need not be */
		clean = utf8_sanitize(s);
		if (!clean)
			return set_new(obj, key, NULL);
		val = json_string(clean);
		free(clean);
	}
	return set_new(obj, key, val);
}

int rtv_json_time_format(int64_t realtime_ns, char *buf, size_t len)
{
	/* floor division, so times before 1970 still have ms in [0, 999] */
	int64_t sec = realtime_ns / 1000000000, ms;
	time_t t;
	struct tm tm;
	size_t n;
	int m;

	if (realtime_ns % 1000000000 < 0)
		sec--;
	ms = (realtime_ns - sec * 1000000000) / 1000000;
	t = (time_t)sec;
	if (!len)
		return -ENOSPC;
	if ((int64_t)t != sec || !gmtime_r(&t, &tm))
		return -EOVERFLOW;
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!n)
		return -ENOSPC;
	m = snprintf(buf + n, len - n, ".%03dZ", (int)ms);
	if (m < 0 || (size_t)m >= len - n) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)(n + (size_t)m);
}

/* Whether a shell takes arg as one word as it is (Python's shlex.quote). */
static bool is_plain_word(const char *arg)
{
	const unsigned char *p;

	if (!*arg)
		return false;
	for (p = (const unsigned char *)arg; *p; p++)
		if (!(*p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("@%+=:,./-_", *p)))
			return false;
	return true;
}

/* argv joined with spaces, each argument quoted when it needs to be; the
 * caller frees it. NULL when out of memory. */
static char *cmdline_join(int argc, char **argv)
{
	char *buf = NULL;
	size_t size = 0;
	const char *p;
	FILE *f;
	int i;

	f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	for (i = 0; i < argc && argv && argv[i]; i++) {
		if (i)
			fputc(' ', f);
		if (is_plain_word(argv[i])) {
			fputs(argv[i], f);
			continue;
		}
		/* 'it'\''s' */
		fputc('\'', f);
		for (p = argv[i]; *p; p++) {
			if (*p == '\'')
				fputs("'\\''", f);
			else
				fputc(*p, f);
		}
		fputc('\'', f);
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

json_t *rtv_json_meta_new(int argc, char **argv, int64_t start_realtime_ns,
			  int64_t end_realtime_ns)
{
	struct utsname uts;
	bool have_uts = uname(&uts) == 0;
	char start[40], end[40], *cmdline = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	json_t *meta;
	int err = 0;

	meta = json_object();
	if (!meta)
		return NULL;
	cmdline = cmdline_join(argc, argv);
	if (!cmdline)
		goto fail;
	if (rtv_json_time_format(start_realtime_ns, start, sizeof(start)) < 0)
		start[0] = '\0';
	if (rtv_json_time_format(end_realtime_ns, end, sizeof(end)) < 0)
		end[0] = '\0';
	if ((err = rtv_json_set_str(meta, "tool", "rtvnet")) ||
	    (err = rtv_json_set_str(meta, "version", RTV_VERSION)) ||
	    (err = rtv_json_set_str(meta, "kernel", have_uts ? uts.release : NULL)) ||
	    (err = rtv_json_set_str(meta, "machine", have_uts ? uts.machine : NULL)) ||
	    (err = cpus > 0 ? rtv_json_set_int(meta, "cpus", cpus) : set_new(meta, "cpus", json_null())) ||
	    (err = rtv_json_set_str(meta, "cmdline", cmdline)) ||
	    (err = rtv_json_set_str(meta, "start", start[0] ? start : NULL)) ||
	    (err = rtv_json_set_str(meta, "end", end[0] ? end : NULL)))
		goto fail;
	free(cmdline);
	return meta;
fail:
	free(cmdline);
	json_decref(meta);
	return NULL;
}

json_t *rtv_json_doc(json_t *meta, json_t *config, ...)
{
	json_t *root = json_object();
	bool ok = root && meta && config;
	const char *key;
	va_list ap;

	if (root) {
		json_object_set_new(root, "meta", meta);
		json_object_set_new(root, "config", config);
	} else {
		json_decref(meta);
		json_decref(config);
	}
	va_start(ap, config);
	while ((key = va_arg(ap, const char *))) {
		json_t *v = va_arg(ap, json_t *);

		if (!root)
			json_decref(v);
		else if (json_object_set_new(root, key, v)) /* takes v, or fails on NULL */
			ok = false;
	}
	va_end(ap);
	if (!ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Create path's parent directory when it is missing; one level only. */
static int make_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	char *dir;
	int err = 0;

	if (!slash || slash == path)
		return 0;
	dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	if (stat(dir, &st) == 0)
		goto out;
	if (errno != ENOENT) {
		err = -errno;
		goto out;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		err = -errno;
out:
	free(dir);
	return err;
}

int rtv_json_write_file(json_t *root, const char *path)
{
	char *tmp = NULL, *text = NULL;
	size_t len, off = 0, tmplen;
	ssize_t n;
	bool created = false;
	int fd = -1, err;

	if (!root || !path || !*path)
		return -EINVAL;
	err = make_parent(path);
	if (err)
		return err;
	text = json_dumps(root, RTV_JSON_DUMP_FLAGS);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	tmplen = strlen(path) + sizeof(".tmp");
	tmp = malloc(tmplen);
	if (!tmp) {
		err = -ENOMEM;
		goto out;
	}
	snprintf(tmp, tmplen, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	created = true;
	while (off <= len) {
		/* the text, then its final newline */
		if (off == len)
			n = write(fd, "\n", 1);
		else
			n = write(fd, text + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		err = -errno;
		goto out;
	}
	err = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (err)
		goto out;
	if (rename(tmp, path) < 0)
		err = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (err && created)
		unlink(tmp);
	free(tmp);
	free(text);
	return err;
}
