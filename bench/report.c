// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - output of xpmem_bench: a JSON document built while the
 * sections run (written at the end, to a file or stdout), and the targets:
 * each a measured value, a bound and PASS, MISS or n/a (not measured, e.g.
 * the module has no counters), printed as the last table and in the JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ------------------------------------------------------------- JSON */

#define JSON_DEPTH	16

static char *jbuf;
static size_t jlen, jcap;
static int jdepth;
static bool jfirst[JSON_DEPTH];
static char jkind[JSON_DEPTH];

static void jput(const char *s, size_t n)
{
	if (jlen + n + 1 > jcap) {
		size_t cap = jcap ? jcap * 2 : 65536;
		char *b;

		while (cap < jlen + n + 1)
			cap *= 2;
		b = realloc(jbuf, cap);
		if (!b)
			abort();
		jbuf = b;
		jcap = cap;
	}
	memcpy(jbuf + jlen, s, n);
	jlen += n;
	jbuf[jlen] = 0;
}

static void __attribute__((format(printf, 1, 2))) jprintf(const char *fmt,
							   ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		jput(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void jstring(const char *s)
{
	jput("\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			jprintf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			jprintf("\\u%04x", *s);
		else
			jput(s, 1);
	}
	jput("\"", 1);
}

static void jindent(void)
{
	int i;

	jput("\n", 1);
	for (i = 0; i < jdepth; i++)
		jput("  ", 2);
}

/* Separator, indentation and "key": for the next value. */
static void jkey(const char *key)
{
	if (jdepth == 0)
		return;
	if (!jfirst[jdepth])
		jput(",", 1);
	jfirst[jdepth] = false;
	jindent();
	if (jkind[jdepth] == '{') {
		jstring(key ? key : "");
		jput(": ", 2);
	}
}

void json_begin(const char *key, char kind)
{
	jkey(key);
	jput(kind == '[' ? "[" : "{", 1);
	if (jdepth + 1 < JSON_DEPTH) {
		jdepth++;
		jfirst[jdepth] = true;
		jkind[jdepth] = kind;
	}
}

void json_end(void)
{
	char kind = jkind[jdepth];
	bool empty = jfirst[jdepth];

	if (jdepth > 0)
		jdepth--;
	if (!empty)
		jindent();
	jput(kind == '[' ? "]" : "}", 1);
}

void json_num(const char *key, double v)
{
	jkey(key);
	if (isnan(v) || isinf(v))
		jput("null", 4);
	else
		jprintf("%.6g", v);
}

void json_int(const char *key, long long v)
{
	jkey(key);
	jprintf("%lld", v);
}

void json_str(const char *key, const char *v)
{
	jkey(key);
	if (v)
		jstring(v);
	else
		jput("null", 4);
}

void json_bool(const char *key, bool v)
{
	jkey(key);
	jput(v ? "true" : "false", v ? 4 : 5);
}

/* The counters of @c divided by @per (per rep); null where n/a. */
void json_counters(const char *key, const struct counters *c, int per)
{
	int i;

	json_begin(key, '{');
	for (i = 0; i < C_NR; i++)
		json_num(counter_names[i],
			 c->have[i] ? (double)c->v[i] / (per > 0 ? per : 1) :
			 __builtin_nan(""));
	json_end();
}

int json_write(const char *path)
{
	FILE *f = stdout;
	int ret = 0;

	if (strcmp(path, "-")) {
		f = fopen(path, "we");
		if (!f) {
			bench_error(errno, "cannot write %s", path);
			return -1;
		}
	}
	fputs(jbuf ? jbuf : "{}", f);
	fputc('\n', f);
	if (f != stdout) {
		if (fclose(f)) {
			bench_error(errno, "cannot write %s", path);
			ret = -1;
		}
	} else {
		fflush(f);
	}
	return ret;
}

/* ------------------------------------------------------------ targets */

#define MAX_TARGETS	16

struct target {
	char id[48];
	char what[96];
	enum target_op op;
	double bound;
	double value;
	char where[96];
};

static struct target targets[MAX_TARGETS];
static int nr_targets;

/* "PASS", "MISS", or "n/a" when @value was not measured (NaN). */
const char *target_check(double value, enum target_op op, double bound)
{
	if (isnan(value))
		return "n/a";
	if (op == AT_MOST)
		return value <= bound ? "PASS" : "MISS";
	return value >= bound ? "PASS" : "MISS";
}

void target_add(const char *id, const char *what, enum target_op op,
		double bound, double value, const char *where)
{
	struct target *t;

	if (nr_targets == MAX_TARGETS)
		return;
	t = &targets[nr_targets++];
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->what, sizeof(t->what), "%s", what);
	t->op = op;
	t->bound = bound;
	t->value = value;
	snprintf(t->where, sizeof(t->where), "%s", where ? where : "");
}

static const char *op_str(enum target_op op)
{
	return op == AT_MOST ? "<=" : ">=";
}

void targets_print(void)
{
	int i;

	printf("\n### Targets\n\n");
	printf("| %-52s | %9s | %8s | %-6s | %-24s |\n", "target", "measured",
	       "bound", "result", "worst case at");
	printf("|:-----------------------------------------------------|----------:|---------:|:-------|:-------------------------|\n");
	for (i = 0; i < nr_targets; i++) {
		struct target *t = &targets[i];
		char v[32], b[32];

		if (isnan(t->value))
			snprintf(v, sizeof(v), "n/a");
		else
			snprintf(v, sizeof(v), "%.3f", t->value);
		snprintf(b, sizeof(b), "%s %g", op_str(t->op), t->bound);
		printf("| %-52s | %9s | %8s | %-6s | %-24s |\n", t->what, v, b,
		       target_check(t->value, t->op, t->bound), t->where);
	}
}

void targets_json(void)
{
	int i;

	json_begin("targets", '[');
	for (i = 0; i < nr_targets; i++) {
		struct target *t = &targets[i];

		json_begin(NULL, '{');
		json_str("id", t->id);
		json_str("description", t->what);
		json_str("op", op_str(t->op));
		json_num("bound", t->bound);
		json_num("value", t->value);
		json_str("status", target_check(t->value, t->op, t->bound));
		json_str("where", t->where);
		json_end();
	}
	json_end();
}

int targets_missed(void)
{
	int i, n = 0;

	for (i = 0; i < nr_targets; i++)
		n += !strcmp(target_check(targets[i].value, targets[i].op,
					  targets[i].bound), "MISS");
	return n;
}
