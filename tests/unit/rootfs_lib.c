/* A shared library for test_rootfs: a program in rootfs/ finds it through
 * its DT_RUNPATH ("$ORIGIN/.." as meson writes it), which
 * rtv_rootfs_build must follow. */
const char *rtv_rootfs_lib_hello(void);

const char *rtv_rootfs_lib_hello(void)
{
	return "hello from rootfs_lib";
}
