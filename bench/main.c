// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - xpmem_bench: options, the run, the summary.
 *
 * Runs the five sections (warm copy, cold path, transfer, exporter churn,
 * teardown; see each file's header for what and how), prints one table per
 * section and a table of the targets, and writes the JSON document if
 * --json is given. Needs xpmem.ko loaded; best run as root in a throw-away
 * guest (the teardown section raises vm.max_map_count, the counters live
 * in debugfs). Exit status: 0 when everything was measured (targets may
 * have been missed: see the table), 1 when something could not be
 * measured, 2 on a usage error, 3 with --strict when a target was missed.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct options opt;
size_t pagesz;

static const char usage_text[] =
"usage: xpmem_bench [options]\n"
"Measures xpmem against baselines measured side by side in the same run and\n"
"prints every figure as a ratio to its baseline, with the targets' PASS/MISS.\n"
"Needs xpmem.ko loaded; run it as root (vm.max_map_count, debugfs counters).\n"
"\n"
"sections (default: all, in this order):\n"
"  warm      memcpy from a warm attachment vs local memcpy, 4 KiB..--max-size\n"
"  cold      attach + first touch per 4 KiB page vs local first touch and\n"
"            populate; 4 KiB and THP sources, populated and not\n"
"  xfer      single copy (warm attachment) vs CMA (process_vm_readv) vs a\n"
"            two-copy shared-memory bounce buffer, 4 KiB..--xfer-max\n"
"  churn     exporter munmap/mmap loop with 0,1,8,64 importers attached to\n"
"            an unrelated range vs the loop in a process without xpmem\n"
"  teardown  exit with --attachments attachments vs as many anonymous maps\n"
"\n"
"options:\n"
"  --sections LIST      comma-separated subset of the sections above\n"
"  --quick              small sizes and few repetitions (about 4x faster):\n"
"                       --reps 3 --teardown-reps 1 --max-size 16M\n"
"                       --xfer-max 4M --cold-max 16M --sample-ms 10\n"
"                       --attachments 10000\n"
"  --reps N             base number of samples: each measurement takes 2-4x\n"
"                       that many (churn 16x); figures use the best\n"
"                       (shortest), the JSON has medians too (5)\n"
"  --teardown-reps N    samples of the teardown section (1)\n"
"  --max-size SIZE      largest warm copy (256M)\n"
"  --xfer-max SIZE      largest transfer (64M)\n"
"  --cold-max SIZE      largest cold attach; sizes 64K 2M 16M 64M (64M)\n"
"  --sample-ms MS       length of one sample of repeated operations: warm\n"
"                       copies, transfers, churn cycles (25)\n"
"  --importers LIST     importer counts of the churn section (0,1,8,64)\n"
"  --attachments N      mappings of the teardown section (100000)\n"
"  --backing thp|4k     backing of the warm-copy source and buffers (thp)\n"
"  --xfer-backing LIST  backings of the transfer section (4k,thp)\n"
"  --align-attach       cold section: attach at a 2 MiB-aligned address\n"
"                       instead of letting the kernel choose (vaddr NULL)\n"
"  --json FILE          write the results as JSON to FILE ('-': stdout)\n"
"  --label TEXT         free text stored in the JSON (e.g. the commit)\n"
"  --strict             exit 3 if a target was missed\n"
"  -h, --help           this text\n"
"SIZE: bytes, or with K, M, G (binary). Exit status: 0 measured (targets may\n"
"be missed), 1 something could not be measured, 2 usage, 3 --strict miss.\n";

static void __attribute__((noreturn)) usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	exit(status);
}

static void __attribute__((noreturn)) bad(const char *what, const char *arg)
{
	fprintf(stderr, "xpmem_bench: bad %s '%s'\n", what, arg);
	usage(2);
}

static long parse_long(const char *s, const char *what, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min)
		bad(what, s);
	return v;
}

static size_t parse_size_opt(const char *s, const char *what)
{
	size_t v;

	if (parse_size(s, &v) || v % 4096)
		bad(what, s);
	return v;
}

static unsigned int parse_sections(const char *s)
{
	static const char *const names[] = {
		"warm", "cold", "xfer", "churn", "teardown",
	};
	char buf[256], *tok, *save = NULL;
	unsigned int bits = 0, i;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < 5; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == 5) {
			if (strcmp(tok, "all"))
				bad("section", tok);
			bits |= SEC_ALL;
		} else {
			bits |= 1u << i;
		}
	}
	if (!bits)
		bad("sections", s);
	return bits;
}

static void parse_levels(const char *s)
{
	char buf[256], *tok, *save = NULL;
	int last = -1;

	snprintf(buf, sizeof(buf), "%s", s);
	opt.nlevels = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		long v = parse_long(tok, "importer count", 0);

		if (v > 512 || v <= last || opt.nlevels == MAX_LEVELS)
			bad("--importers (ascending, at most 8 counts <= 512)",
			    s);
		opt.levels[opt.nlevels++] = (int)v;
		last = (int)v;
	}
	if (!opt.nlevels)
		bad("--importers", s);
}

static unsigned int parse_backings(const char *s)
{
	char buf[64], *tok, *save = NULL;
	unsigned int bits = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "4k"))
			bits |= 1u << BACK_4K;
		else if (!strcmp(tok, "thp"))
			bits |= 1u << BACK_THP;
		else
			bad("--xfer-backing", s);
	}
	if (!bits)
		bad("--xfer-backing", s);
	return bits;
}

static void on_signal(int sig)
{
	teardown_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

enum {
	O_SECTIONS = 256, O_QUICK, O_REPS, O_TREPS, O_MAX, O_XFER, O_COLD,
	O_SAMPLE, O_IMPORTERS, O_ATT, O_BACKING, O_XBACKING, O_ALIGN, O_JSON,
	O_LABEL, O_STRICT,
};

static const struct option long_opts[] = {
	{ "sections", required_argument, NULL, O_SECTIONS },
	{ "quick", no_argument, NULL, O_QUICK },
	{ "reps", required_argument, NULL, O_REPS },
	{ "teardown-reps", required_argument, NULL, O_TREPS },
	{ "max-size", required_argument, NULL, O_MAX },
	{ "xfer-max", required_argument, NULL, O_XFER },
	{ "cold-max", required_argument, NULL, O_COLD },
	{ "sample-ms", required_argument, NULL, O_SAMPLE },
	{ "importers", required_argument, NULL, O_IMPORTERS },
	{ "attachments", required_argument, NULL, O_ATT },
	{ "backing", required_argument, NULL, O_BACKING },
	{ "xfer-backing", required_argument, NULL, O_XBACKING },
	{ "align-attach", no_argument, NULL, O_ALIGN },
	{ "json", required_argument, NULL, O_JSON },
	{ "label", required_argument, NULL, O_LABEL },
	{ "strict", no_argument, NULL, O_STRICT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *label = "";

static void parse_options(int argc, char **argv)
{
	int c, i;

	/* Defaults; --quick first, so that explicit options override it. */
	opt = (struct options){
		.sections = SEC_ALL,
		.reps = 5,
		.teardown_reps = 1,
		.warm_max = 256 * MIB,
		.xfer_max = 64 * MIB,
		.cold_max = 64 * MIB,
		.sample_ns = 25e6,
		.attachments = 100000,
		.levels = { 0, 1, 8, 64 },
		.nlevels = 4,
		.backing = BACK_THP,
		.xfer_backings = 1u << BACK_4K | 1u << BACK_THP,
	};
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--quick")) {
			opt.reps = 3;
			opt.teardown_reps = 1;
			opt.warm_max = 16 * MIB;
			opt.xfer_max = 4 * MIB;
			opt.cold_max = 16 * MIB;
			opt.sample_ns = 10e6;
			opt.attachments = 10000;
		}
	}
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_SECTIONS:
			opt.sections = parse_sections(optarg);
			break;
		case O_QUICK:
			break;
		case O_REPS:
			opt.reps = (int)parse_long(optarg, "--reps", 1);
			if (opt.reps > 64)
				bad("--reps (at most 64)", optarg);
			break;
		case O_TREPS:
			opt.teardown_reps = (int)parse_long(optarg,
							    "--teardown-reps", 1);
			if (opt.teardown_reps > 16)
				bad("--teardown-reps (at most 16)", optarg);
			break;
		case O_MAX:
			opt.warm_max = parse_size_opt(optarg, "--max-size");
			break;
		case O_XFER:
			opt.xfer_max = parse_size_opt(optarg, "--xfer-max");
			break;
		case O_COLD:
			opt.cold_max = parse_size_opt(optarg, "--cold-max");
			break;
		case O_SAMPLE:
			opt.sample_ns = 1e6 * parse_long(optarg, "--sample-ms", 1);
			break;
		case O_IMPORTERS:
			parse_levels(optarg);
			break;
		case O_ATT:
			opt.attachments = parse_long(optarg, "--attachments", 1);
			break;
		case O_BACKING:
			if (!strcmp(optarg, "thp"))
				opt.backing = BACK_THP;
			else if (!strcmp(optarg, "4k"))
				opt.backing = BACK_4K;
			else
				bad("--backing", optarg);
			break;
		case O_XBACKING:
			opt.xfer_backings = parse_backings(optarg);
			break;
		case O_ALIGN:
			opt.align_attach = true;
			break;
		case O_JSON:
			opt.json = optarg;
			break;
		case O_LABEL:
			label = optarg;
			break;
		case O_STRICT:
			opt.strict = true;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		bad("argument", argv[optind]);
}

static void options_json(void)
{
	int i;

	json_begin("options", '{');
	json_int("reps", opt.reps);
	json_int("teardown_reps", opt.teardown_reps);
	json_int("max_size", (long long)opt.warm_max);
	json_int("xfer_max", (long long)opt.xfer_max);
	json_int("cold_max", (long long)opt.cold_max);
	json_num("sample_ms", opt.sample_ns / 1e6);
	json_int("attachments", opt.attachments);
	json_begin("importers", '[');
	for (i = 0; i < opt.nlevels; i++)
		json_int(NULL, opt.levels[i]);
	json_end();
	json_str("backing", backing_name(opt.backing));
	json_begin("xfer_backing", '[');
	for (i = 0; i <= BACK_THP; i++)
		if (opt.xfer_backings & (1u << i))
			json_str(NULL, backing_name(i));
	json_end();
	json_bool("align_attach", opt.align_attach);
	json_end();
}

int main(int argc, char **argv)
{
	static const struct {
		unsigned int bit;
		const char *name;
		int (*run)(void);
	} sections[] = {
		{ SEC_WARM, "warm", section_warm },
		{ SEC_COLD, "cold", section_cold },
		{ SEC_XFER, "xfer", section_xfer },
		{ SEC_CHURN, "churn", section_churn },
		{ SEC_TEARDOWN, "teardown", section_teardown },
	};
	double secs[ARRAY_SIZE(sections)] = { 0 };
	char thp[32], date[32];
	struct utsname u;
	uint64_t t0 = now_ns();
	bool have_counters;
	time_t now = time(NULL);
	unsigned int i;
	int version, missed;

	parse_options(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	pagesz = (size_t)sysconf(_SC_PAGESIZE);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(teardown_restore);

	version = xpmem_version();
	if (version == -1) {
		bench_error(errno, "xpmem_version (is xpmem.ko loaded?)");
		return 1;
	}
	have_counters = counters_init();
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	thp_mode(thp, sizeof(thp));

	printf("xpmem_bench: kernel %s, xpmem %d.%d, %ld CPUs, THP %s, counters %s\n",
	       u.release, (version >> 16) & 0xfff, (version >> 12) & 0xf,
	       sysconf(_SC_NPROCESSORS_ONLN), thp,
	       have_counters ? "available" : "n/a (no /sys/kernel/debug/xpmem/stats)");
	printf("Every figure is a ratio to a baseline measured in the same run, from the best\n"
	       "(shortest) of many samples; absolute numbers are only for orientation.\n");
	if (getenv("GLIBC_TUNABLES"))
		printf("GLIBC_TUNABLES=%s\n", getenv("GLIBC_TUNABLES"));

	json_begin(NULL, '{');
	json_str("benchmark", "xpmem_bench");
	json_int("format", 1);
	json_str("label", label);
	json_str("date", date);
	json_str("kernel", u.release);
	json_str("machine", u.machine);
	json_int("xpmem_version", version);
	json_int("cpus", sysconf(_SC_NPROCESSORS_ONLN));
	json_str("thp_enabled", thp);
	json_str("glibc_tunables", getenv("GLIBC_TUNABLES"));
	json_bool("counters_available", have_counters);
	options_json();
	json_begin("sections", '{');
	for (i = 0; i < ARRAY_SIZE(sections); i++) {
		uint64_t ts = now_ns();

		if (!(opt.sections & sections[i].bit))
			continue;
		sections[i].run();
		secs[i] = (double)(now_ns() - ts) / 1e9;
		printf("\n(%s: %.0f s)\n", sections[i].name, secs[i]);
	}
	json_end();
	json_begin("section_seconds", '{');
	for (i = 0; i < ARRAY_SIZE(sections); i++)
		if (opt.sections & sections[i].bit)
			json_num(sections[i].name, secs[i]);
	json_end();
	targets_print();
	targets_json();
	json_num("seconds", (double)(now_ns() - t0) / 1e9);
	json_int("errors", bench_errors);
	json_end();
	if (opt.json)
		json_write(opt.json);

	missed = targets_missed();
	printf("\nxpmem_bench: %d target(s) missed, %d error(s), %.0f s\n",
	       missed, bench_errors, (double)(now_ns() - t0) / 1e9);
	if (bench_errors)
		return 1;
	return opt.strict && missed ? 3 : 0;
}
