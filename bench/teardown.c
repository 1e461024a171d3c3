// SPDX-License-Identifier: GPL-2.0
/*
 * teardown.c - section 5: exit of a process holding --attachments
 * (100,000) attachments, vs exit of a process holding as many plain
 * anonymous mappings of the same size.
 *
 * An exporter exports a populated 4 KiB-backed buffer (up to 64 MiB). A
 * fresh worker then makes N one-page attachments of it (page i % buffer
 * pages), one free page apart, and touches each; another fresh worker
 * (which has nothing to do with xpmem) makes N one-page anonymous mappings
 * laid out the same way and touches each. Each is then told to exit, and
 * the time from the command to waitpid() returning is the teardown cost
 * (unmapping everything, freeing the attachments, releasing the xpmem
 * state). The two alternate, --teardown-reps times each; best of. Figure:
 * xpmem exit time / anonymous exit time. The setup times and the module's
 * live-attachment counter before and after the exit are reported too.
 * vm.max_map_count is raised for the run if it is too low (root only) and
 * restored afterwards; without the rights N is lowered to fit.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define MAX_MAP_COUNT	"/proc/sys/vm/max_map_count"
#define SPARE_MAPS	4096	/* the worker's own mappings, and some */
#define MAX_SRC_PAGES	16384	/* 64 MiB source */

/* The value to restore ("65530\n"), or "" when nothing was changed. */
static char saved_map_count[32];

/*
 * Restore vm.max_map_count if this section raised it. Also called from
 * main()'s exit and signal handlers, hence only async-signal-safe calls.
 */
void teardown_restore(void)
{
	size_t len = strlen(saved_map_count);
	int fd;

	if (!len)
		return;
	fd = open(MAX_MAP_COUNT, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, saved_map_count, len) != (ssize_t)len) {
		static const char msg[] =
			"xpmem_bench: error: cannot restore vm.max_map_count\n";

		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
			bench_errors++;
		bench_errors++;
	}
	if (fd >= 0)
		close(fd);
	saved_map_count[0] = 0;
}

int section_teardown(void)
{
	long n = opt.attachments, cur, src_pages;
	int reps = opt.teardown_reps > 16 ? 16 : opt.teardown_reps, r, k;
	double exit_ns[2][16], setup_ns[2][16], m_exit[2], m_setup[2];
	struct counters c0, c1, c2, live, left;
	struct worker e = { 0 };
	int64_t src, seg, ns, made;
	long long live_sum = 0, left_sum = 0;
	bool have_live = false;
	int ret = -1;

	printf("\n### 5. Teardown: exit of a process holding many attachments vs as many anonymous mappings\n\n");
	if (sysctl_read(MAX_MAP_COUNT, &cur))
		cur = 65530;
	if (cur < n + SPARE_MAPS) {
		if (sysctl_write(MAX_MAP_COUNT, n + SPARE_MAPS) == 0) {
			snprintf(saved_map_count, sizeof(saved_map_count),
				 "%ld\n", cur);
			printf("vm.max_map_count raised from %ld to %ld for this section.\n",
			       cur, n + SPARE_MAPS);
		} else {
			n = cur - SPARE_MAPS;
			printf("Cannot raise vm.max_map_count (%ld): %ld mappings instead of %ld.\n",
			       cur, n, opt.attachments);
		}
	}
	if (n < 1) {
		bench_error(0, "teardown: no room for mappings");
		return -1;
	}
	src_pages = n < MAX_SRC_PAGES ? n : MAX_SRC_PAGES;
	if (worker_start(&e, 0) ||
	    worker_call(&e, W_MAP, src_pages * pagesz, BACK_4K, 1, 0, &src,
			NULL) ||
	    worker_call(&e, W_MAKE, src, src_pages * pagesz, 0, 0, &seg,
			NULL)) {
		bench_error(errno, "teardown: exporter setup");
		goto out;
	}

	for (r = 0; r < reps; r++) {
		for (k = 0; k < 2; k++) {
			int kind = (k + r) % 2 ? MASS_XPMEM : MASS_ANON;
			struct worker w = { 0 };

			if (worker_start(&w, kind == MASS_ANON ? W_NO_XPMEM : 0) ||
			    worker_call(&w, W_PIN, bench_cpu(), 0, 0, 0, NULL,
					NULL)) {
				bench_error(errno, "teardown: fork");
				worker_stop(&w);
				goto out;
			}
			counters_read(&c0);
			if (worker_call(&w, W_MASS, kind, n, seg, src_pages, &ns,
					&made)) {
				bench_error(errno, "teardown: %s mapping %lld of %ld",
					    kind == MASS_XPMEM ? "xpmem" : "anonymous",
					    (long long)made, n);
				worker_stop(&w);
				goto out;
			}
			setup_ns[kind][r] = (double)ns;
			counters_read(&c1);
			ns = worker_exit_ns(&w);
			counters_read(&c2);
			if (ns < 0) {
				bench_error(errno, "teardown: exit");
				goto out;
			}
			exit_ns[kind][r] = (double)ns;
			if (kind == MASS_XPMEM && c2.have[C_ATTACHMENTS]) {
				counters_delta(&live, &c0, &c1);
				counters_delta(&left, &c0, &c2);
				live_sum += live.v[C_ATTACHMENTS];
				left_sum += left.v[C_ATTACHMENTS];
				have_live = true;
			}
		}
	}
	for (k = 0; k < 2; k++) {
		m_exit[k] = minimum(exit_ns[k], reps);
		m_setup[k] = minimum(setup_ns[k], reps);
	}
	printf("Best of %d sample(s); setup = map + touch each mapping, exit = exit command to waitpid().\n\n",
	       reps);
	printf("| %8s | %-5s | %12s | %9s | %11s | %10s | %10s |\n",
	       "mappings", "kind", "setup us/map", "exit ms", "exit us/map",
	       "setup/anon", "exit/anon");
	printf("|---------:|:------|-------------:|----------:|------------:|-----------:|-----------:|\n");
	printf("| %8ld | %-5s | %12.2f | %9.1f | %11.3f | %10s | %10s |\n", n,
	       "anon", m_setup[MASS_ANON] / n / 1000, m_exit[MASS_ANON] / 1e6,
	       m_exit[MASS_ANON] / n / 1000, "1x", "1x");
	printf("| %8ld | %-5s | %12.2f | %9.1f | %11.3f | %9.2fx | %9.2fx |\n",
	       n, "xpmem", m_setup[MASS_XPMEM] / n / 1000,
	       m_exit[MASS_XPMEM] / 1e6, m_exit[MASS_XPMEM] / n / 1000,
	       m_setup[MASS_XPMEM] / m_setup[MASS_ANON],
	       m_exit[MASS_XPMEM] / m_exit[MASS_ANON]);
	if (have_live)
		printf("\nLive attachments (counter) per run: %.0f; left after exit: %.0f.\n",
		       (double)live_sum / reps, (double)left_sum / reps);
	else
		printf("\nAttachment counter n/a.\n");

	json_begin("teardown", '{');
	json_str("measures", "time from telling a process to exit to waitpid() returning: N one-page attachments (touched) vs N one-page anonymous mappings (touched); ratio = xpmem / anonymous");
	json_int("mappings", n);
	json_int("reps", reps);
	json_num("anon_exit_ns", m_exit[MASS_ANON]);
	json_num("xpmem_exit_ns", m_exit[MASS_XPMEM]);
	json_num("anon_exit_ns_per_mapping", m_exit[MASS_ANON] / n);
	json_num("xpmem_exit_ns_per_mapping", m_exit[MASS_XPMEM] / n);
	json_num("exit_ratio", m_exit[MASS_XPMEM] / m_exit[MASS_ANON]);
	json_num("anon_setup_ns_per_mapping", m_setup[MASS_ANON] / n);
	json_num("xpmem_setup_ns_per_mapping", m_setup[MASS_XPMEM] / n);
	json_num("setup_ratio", m_setup[MASS_XPMEM] / m_setup[MASS_ANON]);
	json_num("live_attachments", have_live ? (double)live_sum / reps :
		 __builtin_nan(""));
	json_num("attachments_left_after_exit",
		 have_live ? (double)left_sum / reps : __builtin_nan(""));
	json_end();
	ret = 0;
out:
	worker_stop(&e);
	teardown_restore();
	return ret;
}
