// SPDX-License-Identifier: GPL-2.0
/*
 * mm_get_unmapped_area() replaced mm->get_unmapped_area (6.10, "mm: switch
 * mm->get_unmapped_area() to a flag").
 */
#include <linux/sched.h>
#include <linux/sched/mm.h>

unsigned long probe_area(void);

unsigned long probe_area(void)
{
	return mm_get_unmapped_area(current->mm, NULL, 0, PAGE_SIZE, 0, 0);
}
