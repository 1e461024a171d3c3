// SPDX-License-Identifier: GPL-2.0
/*
 * ->huge_fault() takes a page order (6.6, "mm: convert huge_fault to take
 * an order") instead of enum page_entry_size.
 */
#include <linux/mm.h>

static vm_fault_t probe_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	return VM_FAULT_FALLBACK;
}

const struct vm_operations_struct probe_ops = {
	.huge_fault = probe_huge_fault,
};
