/* Unit tests for lib/env/env.c and the rows: the table, an OCI bundle's
 * config.json, the program's output read back (podman's k8s-file log with
 * its split lines and two streams), commands run and timed, a program's end
 * waited for, and the vm row's refusal. Nothing here touches the host's
 * cgroups or namespaces (the integration test t1010 does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env/env.h"
#include "util/time.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rtv-test-env-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Every row has a name, a description and detect; a row that runs has all
 * it needs to run; the names are unique and found. */
static void test_table(void **state)
{
	int n = 0;

	(void)state;
	for (size_t i = 0; rtv_envs[i]; i++, n++) {
		const struct rtv_env *e = rtv_envs[i];

		assert_non_null(e->name);
		assert_non_null(e->what);
		assert_non_null(e->detect);
		assert_ptr_equal(rtv_env_find(e->name), e);
		if (e->start) {
			assert_non_null(e->remove);
			assert_non_null(e->once);
		}
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(rtv_envs[j]->name, e->name);
	}
	assert_int_equal(n, 6);
	assert_null(rtv_env_find("lxc"));
	assert_null(rtv_env_find(""));
	/* vm is the interface only: refused everywhere until a guest is wired */
	assert_null(rtv_env_vm.start);
	assert_null(rtv_env_vm.once);
}

static void test_vm_refused_with_reason(void **state)
{
	struct rtv_envs e = { 0 };
	char why[256] = "";

	(void)state;
	assert_true(rtv_env_vm.detect(&e, why, sizeof(why)) < 0);
	assert_true(strlen(why) > 10);
}

/* The bundle: what the runtime spec requires and what an RT program needs. */
static void test_oci_config(void **state)
{
	const char *const argv[] = { "/usr/bin/cyclictest", "-p90", NULL };
	struct rtv_envs e = { 0 };
	json_error_t jerr;
	json_t *c, *caps, *ns, *m;
	char path[128];
	bool net = false, out = false;
	size_t i;

	(void)state;
	snprintf(e.rootfs, sizeof(e.rootfs), "%s/rootfs", dir);
	snprintf(e.out, sizeof(e.out), "%s/out", dir);
	e.rt_runtime_us = 800000;
	e.rt_period_us = 1000000;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	assert_int_equal(rtv_env_oci_config(&e, "rtv-crun-7", argv, true, path), 0);
	c = json_load_file(path, 0, &jerr);
	assert_non_null(c);
	assert_string_equal(json_string_value(json_object_get(c, "ociVersion")), "1.0.2");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(c, "process"), "args"), 1)),
			    "-p90");
	assert_false(json_is_true(json_object_get(json_object_get(c, "process"), "terminal")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "root"), "path")),
			    e.rootfs);
	assert_true(json_is_true(json_object_get(json_object_get(c, "root"), "readonly")));
	caps = json_object_get(json_object_get(json_object_get(c, "process"), "capabilities"),
			       "effective");
	{
		bool nice = false, lock = false;

		for (i = 0; i < json_array_size(caps); i++) {
			nice |= !strcmp(json_string_value(json_array_get(caps, i)), "CAP_SYS_NICE");
			lock |= !strcmp(json_string_value(json_array_get(caps, i)), "CAP_IPC_LOCK");
		}
		assert_true(nice && lock);
	}
	ns = json_object_get(json_object_get(c, "linux"), "namespaces");
	for (i = 0; i < json_array_size(ns); i++)
		net |= !strcmp(json_string_value(json_object_get(json_array_get(ns, i), "type")),
			       "network");
	assert_true(net);
	m = json_object_get(c, "mounts");
	for (i = 0; i < json_array_size(m); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(m, i), "destination")),
			    "/out"))
			out = !strcmp(json_string_value(json_object_get(json_array_get(m, i),
									 "source")), e.out);
	assert_true(out);
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "linux"),
							      "cgroupsPath")),
			    "/" RTV_ENV_CGROUP "/rtv-crun-7");
	/* a quarter of the parent's RT runtime, for an RT program only */
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(json_object_get(c, "linux"),
								 "resources"), "cpu"),
				 "realtimeRuntime")),
			 200000);
	json_decref(c);
	assert_int_equal(rtv_env_oci_config(&e, "rtv-crun-8", argv, false, path), 0);
	c = json_load_file(path, 0, &jerr);
	assert_non_null(c);
	assert_null(json_object_get(json_object_get(json_object_get(c, "linux"), "resources"),
				    "cpu"));
	json_decref(c);
	/* no RT group scheduling: never */
	e.rt_runtime_us = -1;
	assert_int_equal(rtv_env_oci_config(&e, "rtv-crun-9", argv, true, path), 0);
	c = json_load_file(path, 0, &jerr);
	assert_null(json_object_get(json_object_get(json_object_get(c, "linux"), "resources"),
				    "cpu"));
	json_decref(c);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* podman's k8s-file log: each entry "TIME STREAM F|P TEXT"; a P entry is a
 * part of a line continued by the next entry of its stream. */
static void test_output_podman_log(void **state)
{
	struct rtv_env_run r = { .podman_log = true };
	char *o;

	(void)state;
	snprintf(r.out, sizeof(r.out), "%s/log", dir);
	write_file(r.out, "2026-12-04T21:01:21.1+00:00 stdout F # Histogram\n"
			  "2026-12-04T21:01:21.1+00:00 stdout P 000001 00\n"
			  "2026-12-04T21:01:21.2+00:00 stderr F WARN: no /dev/cpu_dma_latency\n"
			  "2026-12-04T21:01:21.2+00:00 stdout F 0042\n"
			  "2026-12-04T21:01:21.3+00:00 stdout F # Total: 0042\n");
	o = rtv_env_output(&r, false);
	assert_non_null(o);
	assert_string_equal(o, "# Histogram\n000001 000042\n# Total: 0042\n");
	free(o);
	o = rtv_env_output(&r, true);
	assert_non_null(o);
	assert_string_equal(o, "WARN: no /dev/cpu_dma_latency\n");
	free(o);
	r.podman_log = false; /* the plain files: as they are */
	snprintf(r.errout, sizeof(r.errout), "%s/err", dir);
	write_file(r.errout, "oops\n");
	o = rtv_env_output(&r, true);
	assert_string_equal(o, "oops\n");
	free(o);
	snprintf(r.out, sizeof(r.out), "%s/missing", dir);
	assert_null(rtv_env_output(&r, false));
}

/* Commands: their status, their output, 127 when missing, the first line
 * of stderr as the error. */
static void test_exec(void **state)
{
	struct rtv_envs e = { 0 };
	char out[64], err[256];

	(void)state;
	assert_int_equal(rtv_env_exec(&e, false, (const char *const[]){ "true", NULL }, -1, -1), 0);
	assert_int_equal(rtv_env_exec(&e, false, (const char *const[]){ "false", NULL }, -1, -1), 1);
	assert_int_equal(rtv_env_exec(&e, false,
				      (const char *const[]){ "rtv-no-such-program", NULL }, -1, -1),
			 127);
	assert_int_equal(rtv_env_exec_out(&e, false, (const char *const[]){ "echo", "a b", NULL },
					  out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "a b\n");
	assert_int_equal(rtv_env_exec_out(&e, false,
					  (const char *const[]){ "sh", "-c",
								 "echo first >&2; echo 2nd >&2; exit 3",
								 NULL },
					  NULL, 0, err, sizeof(err)), 3);
	assert_non_null(strstr(err, "status 3"));
	assert_non_null(strstr(err, "first"));
	assert_null(strstr(err, "2nd"));
}

/* Waiting for a program: a child, or a pidfd; a timeout leaves it running. */
static void test_wait(void **state)
{
	struct rtv_env_run r = { .pidfd = -1 };
	char pidfile[128];
	int64_t t0;

	(void)state;
	r.pid = r.child = rtv_env_fork_exec((const char *const[]){ "/bin/sleep", "0.3", NULL },
					    NULL, NULL, NULL, NULL);
	assert_true(r.pid > 0);
	assert_int_equal(rtv_env_wait(&r, 50 * RTV_NS_PER_MS), -ETIMEDOUT);
	t0 = rtv_now_ns();
	assert_int_equal(rtv_env_wait(&r, 5 * RTV_NS_PER_S), 0);
	assert_true(rtv_now_ns() - t0 >= 150 * RTV_NS_PER_MS);
	assert_int_equal(r.child, 0); /* reaped */

	/* through a pid file, as a runtime writes it */
	memset(&r, 0, sizeof(r));
	r.pidfd = -1;
	{
		pid_t p = rtv_env_fork_exec((const char *const[]){ "/bin/sleep", "0.2", NULL }, NULL,
					    NULL, NULL, NULL);
		char v[32];

		assert_true(p > 0);
		snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
		snprintf(v, sizeof(v), "%d\n", p);
		write_file(pidfile, v);
		assert_int_equal(rtv_env_adopt_pidfile(&r, pidfile), 0);
		assert_int_equal(r.pid, p);
		assert_true(r.pidfd >= 0);
		assert_int_equal(rtv_env_wait(&r, 20 * RTV_NS_PER_MS), -ETIMEDOUT);
		/* the pidfd says it ended once it is a zombie: reap it after */
		assert_int_equal(rtv_env_wait(&r, 5 * RTV_NS_PER_S), 0);
		assert_int_equal(rtv_env_reap(p), 0);
		close(r.pidfd);
	}
	write_file(pidfile, "none\n");
	assert_int_equal(rtv_env_adopt_pidfile(&r, pidfile), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_vm_refused_with_reason),
		cmocka_unit_test(test_oci_config),
		cmocka_unit_test(test_output_podman_log),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_wait),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
