/* Unit tests for lib/outsource/oci.c: the state a runtime sends (crun
 * 1.8.1's own text, split texts, missing or unsent seccompFd, bad JSON), the
 * profile (valid JSON, the rules a runtime needs), and rtv_oci_serve end to
 * end with a forked "runtime" that installs the filter, hands its listener
 * over in two writes (the fd in the first) after a garbage connection, and
 * makes sockets: one supervised container, one refused connection, serve
 * --once returns when the container is gone. Nothing on the host changes
 * (the cgroup root is an empty directory, the socket is in a temporary
 * one): it runs unprivileged too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outsource/oci.h"

/* what crun 1.8.1 sent here, byte for byte but the pid and bundle */
static const char crun_text[] = "{\n    \"ociVersion\": \"0.2.0\",\n    \"fds\": [\n"
				"        \"seccompFd\"\n    ],\n    \"pid\": 5856,\n"
				"    \"metadata\": \"meta1\",\n    \"state\": {\n"
				"        \"ociVersion\": \"0.2.0\",\n        \"id\": \"t3\",\n"
				"        \"status\": \"creating\",\n        \"pid\": 5856,\n"
				"        \"bundle\": \"/tmp/ocitry/b\"\n    }\n}\n";

static void test_parse_crun(void **state)
{
	struct rtv_oci_state st;
	int fds[1] = { 42 };

	(void)state;
	assert_int_equal(rtv_oci_state_parse(crun_text, strlen(crun_text), fds, 1, &st), 0);
	assert_int_equal(st.pid, 5856);
	assert_int_equal(st.seccomp_fd, 42);
	assert_string_equal(st.id, "t3");
	assert_string_equal(st.status, "creating");
	assert_string_equal(st.bundle, "/tmp/ocitry/b");
	assert_string_equal(st.metadata, "meta1");
	/* every strict prefix is incomplete, never an error */
	for (size_t n = 1; n < strlen(crun_text) - 1; n++)
		assert_int_equal(rtv_oci_state_parse(crun_text, n, fds, 1, &st), -EAGAIN);
}

static void test_parse_lenient_and_strict(void **state)
{
	struct rtv_oci_state st;
	int fds[2] = { 7, 9 };
	const char *two = "{\"ociVersion\":\"1.0.2\",\"fds\":[\"other\",\"seccompFd\"],\"pid\":12,"
			  "\"x\":{\"y\":[1,2]},\"state\":{\"id\":\"c\",\"pid\":34,\"annotations\":{}}}";
	const char *top = "{\"fds\":[\"seccompFd\"],\"pid\":56}";

	(void)state;
	assert_int_equal(rtv_oci_state_parse(two, strlen(two), fds, 2, &st), 0);
	assert_int_equal(st.seccomp_fd, 9);
	assert_int_equal(st.pid, 34); /* state.pid first */
	assert_string_equal(st.id, "c");
	assert_string_equal(st.metadata, "");
	assert_int_equal(rtv_oci_state_parse(top, strlen(top), fds, 1, &st), 0);
	assert_int_equal(st.pid, 56);
	assert_string_equal(st.id, "");
	/* named but not sent */
	assert_int_equal(rtv_oci_state_parse(two, strlen(two), fds, 1, &st), -EPROTO);
	assert_int_equal(st.seccomp_fd, -1);
	assert_int_equal(rtv_oci_state_parse(top, strlen(top), fds, 0, &st), -EPROTO);
	const char *bad[] = {
		"not json", "[1,2]", "{\"fds\":[\"seccompFd\"]}", "{\"fds\":[\"seccompFd\"],\"pid\":0}",
		"{\"fds\":[\"seccompFd\"],\"pid\":-3}", "{\"fds\":\"seccompFd\",\"pid\":5}",
		"{\"fds\":[\"notifyFd\"],\"pid\":5}", "{\"pid\":5} trailing",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rtv_oci_state_parse(bad[i], strlen(bad[i]), fds, 2, &st), -EPROTO);
}

static void test_profile(void **state)
{
	json_error_t jerr;
	json_t *p, *calls, *r;
	char *s;

	(void)state;
	s = rtv_oci_profile_json("/run/x.sock", "m\"eta");
	assert_non_null(s);
	p = json_loads(s, 0, &jerr);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "defaultAction")), "SCMP_ACT_ALLOW");
	assert_string_equal(json_string_value(json_object_get(p, "listenerPath")), "/run/x.sock");
	assert_string_equal(json_string_value(json_object_get(p, "listenerMetadata")), "m\"eta");
	assert_int_equal(json_array_size(json_object_get(p, "architectures")), 1);
	calls = json_object_get(p, "syscalls");
	assert_int_equal(json_array_size(calls), 3);
	for (int i = 0; i < 2; i++) {
		r = json_array_get(calls, (size_t)i);
		assert_string_equal(json_string_value(json_array_get(json_object_get(r, "names"), 0)),
				    "socket");
		assert_string_equal(json_string_value(json_object_get(r, "action")), "SCMP_ACT_NOTIFY");
		r = json_array_get(json_object_get(r, "args"), 0);
		assert_int_equal(json_integer_value(json_object_get(r, "index")), 0);
		assert_int_equal(json_integer_value(json_object_get(r, "value")), i ? 10 : 2);
		assert_string_equal(json_string_value(json_object_get(r, "op")), "SCMP_CMP_EQ");
	}
	r = json_array_get(calls, 2);
	assert_string_equal(json_string_value(json_object_get(r, "action")), "SCMP_ACT_ERRNO");
	assert_int_equal(json_integer_value(json_object_get(r, "errnoRet")), 1);
	json_decref(p);
	free(s);
	s = rtv_oci_profile_json(NULL, NULL);
	assert_non_null(s);
	p = json_loads(s, 0, &jerr);
	assert_non_null(p);
	assert_null(json_object_get(p, "listenerPath"));
	assert_null(json_object_get(p, "listenerMetadata"));
	json_decref(p);
	free(s);
}

struct seen {
	int accepted, refused, ended;
	struct rtv_outsource_stats st;
	char id[128];
	int refused_err;
};

static void on_event(void *arg, enum rtv_oci_event ev, const struct rtv_oci_container *c, int err)
{
	struct seen *s = arg;

	if (ev == RTV_OCI_ACCEPTED) {
		s->accepted++;
		snprintf(s->id, sizeof(s->id), "%s", c->state.id);
	} else if (ev == RTV_OCI_REFUSED) {
		s->refused++;
		s->refused_err = err;
	} else {
		s->ended++;
		s->st = c->stats;
	}
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		_exit(10);
	return s;
}

/* The forked "runtime" and container in one: 0 when all went as expected. */
static int runtime_child(const char *path)
{
	char text[256];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int s, fd, n, k;

	/* a connection that sends garbage first: refused, serve goes on */
	s = connect_to(path);
	if (write(s, "{\"garbage\"", 10) != 10)
		_exit(11);
	close(s);
	fd = rtv_outsource_filter_install(NULL);
	if (fd < 0)
		_exit(12);
	n = snprintf(text, sizeof(text),
		     "{\"ociVersion\":\"0.2.0\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"m\","
		     "\"state\":{\"id\":\"unit\",\"status\":\"creating\",\"pid\":%d,\"bundle\":\"/b\"}}",
		     (int)getpid(), (int)getpid());
	s = connect_to(path);
	/* the first 10 bytes with the fd, the rest later */
	k = 10;
	iov = (struct iovec){ .iov_base = text, .iov_len = (size_t)k };
	memset(&u, 0, sizeof(u));
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(s, &msg, 0) != k)
		_exit(13);
	usleep(50 * 1000);
	if (write(s, text + k, (size_t)(n - k)) != n - k)
		_exit(14);
	close(s);
	close(fd);
	/* served: a socket made by the helper (in this namespace) */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		_exit(15);
	close(s);
	s = socket(AF_UNIX, SOCK_DGRAM, 0); /* not notified */
	if (s < 0)
		_exit(16);
	close(s);
	return 0;
}

static void test_serve(void **state)
{
	char dir[] = "/tmp/rtv-oci-XXXXXX", path[128], cgroot[160];
	struct seen seen = { 0 };
	struct rtv_oci_serve_cfg cfg = { .event = on_event, .arg = &seen, .once = true };
	struct stat sb;
	int fd, st;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/l.sock", dir);
	snprintf(cgroot, sizeof(cgroot), "%s/cg", dir);
	assert_int_equal(mkdir(cgroot, 0700), 0);
	/* not a socket: refused, untouched */
	assert_int_equal(rtv_oci_listen(cgroot, &fd), -EEXIST);
	assert_int_equal(rtv_oci_listen(path, &fd), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	{
		int fd2;

		assert_int_equal(rtv_oci_listen(path, &fd2), -EADDRINUSE);
	}
	cfg.listen_fd = fd;
	cfg.cgroup_root = cgroot;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(runtime_child(path));
	alarm(20);
	assert_int_equal(rtv_oci_serve(&cfg, NULL), 0);
	alarm(0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(seen.refused, 1);
	assert_int_equal(seen.refused_err, -EPROTO);
	assert_int_equal(seen.accepted, 1);
	assert_string_equal(seen.id, "unit");
	assert_int_equal(seen.ended, 1);
	assert_int_equal(seen.st.notifications, 1);
	assert_int_equal(seen.st.sockets, 1);
	assert_int_equal(seen.st.refused, 0);
	close(fd);
	/* a dead socket file is replaced */
	assert_int_equal(rtv_oci_listen(path, &fd), 0);
	close(fd);
	unlink(path);
	rmdir(cgroot);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_crun),
		cmocka_unit_test(test_parse_lenient_and_strict),
		cmocka_unit_test(test_profile),
		cmocka_unit_test(test_serve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
