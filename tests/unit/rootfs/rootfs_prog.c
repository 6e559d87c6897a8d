/* test_rootfs's program with a DT_RUNPATH: it prints what its library
 * (tests/unit/rootfs_lib.c, one folder up) says. */
#include <stdio.h>

const char *rtv_rootfs_lib_hello(void);

int main(void)
{
	puts(rtv_rootfs_lib_hello());
	return 0;
}
