/* vm: a virtual machine, the environment a VMM (QEMU/KVM, Cloud Hypervisor)
 * plugs into. A row like the others: start boots a guest whose init runs
 * the program and reports its output on a serial console or virtio-vsock;
 * once boots one that powers off at once (Abeni's boot/shutdown time). None
 * is wired here: detect says why it cannot run, on this machine and in
 * general until a VMM and a guest image are given. What it checks, in
 * order: /dev/kvm; a VMM on PATH; that the host is not itself a guest (the
 * CPU's "hypervisor" flag: a nested guest boots and runs at a speed whose
 * latencies say nothing about a real host's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env/env.h"

static bool cpu_is_guest(void)
{
	char line[4096];
	bool guest = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			guest = strstr(line, " hypervisor") != NULL;
			break;
		}
	if (f)
		fclose(f);
	return guest;
}

static int vm_detect(const struct rtv_envs *e, char *why, size_t len)
{
	(void)e;
	if (access("/dev/kvm", R_OK | W_OK)) {
		snprintf(why, len, "no usable /dev/kvm (%s)", strerror(errno));
		return -ENOTSUP;
	}
	if (!rtv_env_on_path("qemu-system-x86_64") && !rtv_env_on_path("cloud-hypervisor")) {
		snprintf(why, len, "no VMM installed (qemu-system-x86_64 or cloud-hypervisor)");
		return -ENOENT;
	}
	if (cpu_is_guest()) {
		snprintf(why, len, "this host is itself a virtual machine (CPU flag 'hypervisor'): a "
				   "nested guest's latencies would not be a host's");
		return -ENOTSUP;
	}
	snprintf(why, len, "no guest image wired to a VMM in this version");
	return -ENOTSUP;
}

const struct rtv_env rtv_env_vm = {
	.name = "vm",
	.what = "a KVM virtual machine (QEMU, Cloud Hypervisor): the interface, refused until "
		"a guest is wired",
	.phase = { "boot", "run", "shutdown", NULL },
	.detect = vm_detect,
};
