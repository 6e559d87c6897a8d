/* vanilla: the kernel as it is, interrupts and softirq; nothing changed. */
#include "methods/method.h"

const struct rtv_method rtv_method_vanilla = {
	.name = "vanilla",
	.summary = "the kernel as it is: nothing changed",
};
