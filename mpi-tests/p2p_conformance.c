// SPDX-License-Identifier: GPL-2.0
/*
 * p2p_conformance.c - MPI_Send/MPI_Recv conformance over whatever
 * shared-memory transport the MPI picked (xpmem in make mpi-check).
 *
 * Every message carries a pattern derived from (sender, receiver, size,
 * round, generation); the receiver recomputes it and compares every byte,
 * so a transport that delivers stale or foreign data fails. Checks:
 *
 *   sizes      0 B .. 64 MiB, every rank paired with a partner (eager and
 *              rendezvous protocols), both directions
 *   vector     non-contiguous datatypes: a strided MPI_Type_vector sent
 *              into a contiguous buffer and back, gaps left untouched
 *   anysrc     MPI_ANY_SOURCE/MPI_ANY_TAG fan-in to rank 0; the status
 *              must name the sender and tag the payload says it has
 *   reuse-*    the sender frees its buffer and gets a new one at the SAME
 *              virtual address with new content between two sends (malloc
 *              arena, large malloc, munmap+mmap, MADV_DONTNEED): a
 *              transport that caches an attachment (xpmem) or a
 *              registration must still deliver the new bytes
 *
 * Usage: p2p_conformance [--quick] [--max-size BYTES]
 * Prints "PASS name" / "FAIL name: why" on rank 0 and exits non-zero if any
 * check failed on any rank. Needs at least 2 ranks (make mpi-check runs 8).
 */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MiB (1024UL * 1024UL)

static int rank, nranks;
static int failures;		/* this rank's failed checks */
static char why[256];		/* first failure of the current check */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t seed_of(int src, int dst, size_t size, int round, int gen)
{
	return mix(((uint64_t)src << 48) ^ ((uint64_t)dst << 40) ^
		   ((uint64_t)size << 8) ^ ((uint64_t)round << 4) ^
		   (uint64_t)gen ^ 0x5bd1e995ULL);
}

/* Byte i of the pattern for seed s: word-wise for speed under TCG. */
static void fill(void *buf, size_t len, uint64_t s)
{
	uint64_t *w = buf;
	unsigned char *b = buf;
	size_t i, n = len / 8;

	for (i = 0; i < n; i++)
		w[i] = s + i * 0x9e3779b97f4a7c15ULL;
	for (i = n * 8; i < len; i++)
		b[i] = (unsigned char)(s >> (8 * (i % 8))) ^ (unsigned char)i;
}

/* Offset of the first byte that differs from the pattern, or -1. */
static long check(const void *buf, size_t len, uint64_t s)
{
	const uint64_t *w = buf;
	const unsigned char *b = buf;
	size_t i, n = len / 8;

	for (i = 0; i < n; i++)
		if (w[i] != s + i * 0x9e3779b97f4a7c15ULL)
			return (long)(i * 8);
	for (i = n * 8; i < len; i++)
		if (b[i] != ((unsigned char)(s >> (8 * (i % 8))) ^ (unsigned char)i))
			return (long)i;
	return -1;
}

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	va_list ap;

	if (why[0] == '\0') {
		int n = snprintf(why, sizeof(why), "rank %d: ", rank);

		va_start(ap, fmt);
		vsnprintf(why + n, sizeof(why) - n, fmt, ap);
		va_end(ap);
	}
}

/* End of a check: every rank reports; rank 0 prints the verdict. */
static void verdict(const char *name)
{
	int bad = why[0] != '\0', anybad, first = nranks;
	char msg[sizeof(why)];

	MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
	if (anybad) {
		int me = bad ? rank : nranks;

		MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
		if (first != 0 && rank == first)
			MPI_Send(why, sizeof(why), MPI_CHAR, 0, 999, MPI_COMM_WORLD);
		if (rank == 0) {
			if (first == 0)
				memcpy(msg, why, sizeof(msg));
			else
				MPI_Recv(msg, sizeof(msg), MPI_CHAR, first, 999,
					 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			printf("FAIL %s: %s\n", name, msg);
		}
		failures++;
	} else if (rank == 0) {
		printf("PASS %s\n", name);
	}
	fflush(stdout);
	why[0] = '\0';
}

static void *xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p) {
		fprintf(stderr, "rank %d: out of memory (%zu bytes)\n", rank, len);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	return p;
}

static void recv_check(void *buf, size_t len, int src, int tag, uint64_t s,
		       const char *what)
{
	MPI_Status st;
	int count;
	long off;

	memset(buf, 0xa5, len);
	MPI_Recv(buf, (int)len, MPI_BYTE, src, tag, MPI_COMM_WORLD, &st);
	MPI_Get_count(&st, MPI_BYTE, &count);
	if ((size_t)count != len) {
		failf("%s: %zu bytes from %d: got count %d", what, len, src, count);
		return;
	}
	off = check(buf, len, s);
	if (off >= 0)
		failf("%s: %zu bytes from %d: wrong byte at offset %ld", what,
		      len, src, off);
}

/*
 * Pairs (0,1), (2,3), ...: the even rank sends, the odd one checks and
 * sends back a different pattern. Sizes above 16 MiB only in pair (0,1),
 * to keep 8 ranks within a small guest's memory.
 */
static void test_sizes(size_t max_size)
{
	static const size_t sizes[] = {
		0, 1, 7, 8, 63, 64, 255, 1000, 4095, 4096, 4097, 8192, 12345,
		16384, 32767, 32768, 32769, 65536, 65537, 200000, 262144,
		1 * MiB + 3, 2 * MiB, 4 * MiB - 1, 8 * MiB, 16 * MiB + 5,
		32 * MiB, 64 * MiB,
	};
	int partner = rank ^ 1;
	size_t i;

	if (partner >= nranks)
		partner = -1;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		char *buf;
		int round;

		if (len > max_size)
			break;
		if (partner < 0 || (len > 16 * MiB && rank > 1))
			continue;
		buf = xmalloc(len);
		for (round = 0; round < 2; round++) {
			if (rank % 2 == 0) {
				fill(buf, len, seed_of(rank, partner, len, round, 0));
				MPI_Send(buf, (int)len, MPI_BYTE, partner, round,
					 MPI_COMM_WORLD);
				recv_check(buf, len, partner, round,
					   seed_of(partner, rank, len, round, 0),
					   "reply");
			} else {
				recv_check(buf, len, partner, round,
					   seed_of(partner, rank, len, round, 0),
					   "send");
				fill(buf, len, seed_of(rank, partner, len, round, 0));
				MPI_Send(buf, (int)len, MPI_BYTE, partner, round,
					 MPI_COMM_WORLD);
			}
		}
		free(buf);
	}
	verdict("sizes: 0 B .. max, both directions, all pairs");
}

/*
 * A vector of blocks (blocklen ints every stride ints) into a contiguous
 * receive, and a contiguous send into a vector receive whose gaps must
 * keep their old content.
 */
static void test_vector(int count, int blocklen, int stride)
{
	size_t span = ((size_t)(count - 1) * stride + blocklen) * sizeof(int);
	size_t packed = (size_t)count * blocklen * sizeof(int);
	int partner = rank ^ 1;
	MPI_Datatype vec;
	char name[96];
	int *sparse, *dense;
	int b, k;

	snprintf(name, sizeof(name), "vector: %d x %d ints, stride %d (%zu bytes)",
		 count, blocklen, stride, packed);
	if (partner >= nranks) {
		verdict(name);
		return;
	}
	MPI_Type_vector(count, blocklen, stride, MPI_INT, &vec);
	MPI_Type_commit(&vec);
	sparse = xmalloc(span);
	dense = xmalloc(packed);
	if (rank % 2 == 0) {
		/* sparse -> dense */
		fill(sparse, span, seed_of(rank, partner, span, 0, 1));
		MPI_Send(sparse, 1, vec, partner, 10, MPI_COMM_WORLD);
		/* dense -> sparse: gaps keep the 0x5a fill */
		memset(sparse, 0x5a, span);
		MPI_Recv(sparse, 1, vec, partner, 11, MPI_COMM_WORLD,
			 MPI_STATUS_IGNORE);
		fill(dense, packed, seed_of(partner, rank, packed, 0, 1));
		for (b = 0; b < count && !why[0]; b++) {
			const unsigned char *gap;

			if (memcmp(sparse + (size_t)b * stride,
				   dense + (size_t)b * blocklen,
				   blocklen * sizeof(int)))
				failf("dense->vector: block %d wrong", b);
			if (b == count - 1)
				break;
			gap = (const unsigned char *)(sparse + (size_t)b * stride + blocklen);
			for (k = 0; k < (int)((stride - blocklen) * sizeof(int)); k++)
				if (gap[k] != 0x5a) {
					failf("dense->vector: gap after block %d overwritten", b);
					break;
				}
		}
	} else {
		MPI_Status st;
		int got;

		MPI_Recv(dense, (int)packed, MPI_BYTE, partner, 10,
			 MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_BYTE, &got);
		fill(sparse, span, seed_of(partner, rank, span, 0, 1));
		if ((size_t)got != packed)
			failf("vector->dense: count %d, expected %zu", got, packed);
		for (b = 0; b < count && !why[0]; b++)
			if (memcmp(dense + (size_t)b * blocklen,
				   sparse + (size_t)b * stride,
				   blocklen * sizeof(int)))
				failf("vector->dense: block %d wrong", b);
		fill(dense, packed, seed_of(rank, partner, packed, 0, 1));
		MPI_Send(dense, (int)packed, MPI_BYTE, partner, 11, MPI_COMM_WORLD);
	}
	free(sparse);
	free(dense);
	MPI_Type_free(&vec);
	verdict(name);
}

/*
 * Fan-in: every rank but 0 sends PER messages with its own tags and sizes;
 * rank 0 receives them all with MPI_ANY_SOURCE/MPI_ANY_TAG, checks that the
 * status agrees with the payload, and that per sender they arrive in order
 * (MPI's non-overtaking rule for the same source and communicator).
 */
static void test_anysource(size_t len, int per)
{
	char name[96];
	char *buf = xmalloc(len + 16);
	int i;

	snprintf(name, sizeof(name),
		 "anysource: %d x %zu bytes from every rank, ANY_SOURCE/ANY_TAG",
		 per, len);
	if (rank != 0) {
		for (i = 0; i < per; i++) {
			int tag = rank * 1000 + i;

			fill(buf, len, seed_of(rank, 0, len, i, 2));
			MPI_Send(buf, (int)len, MPI_BYTE, 0, tag, MPI_COMM_WORLD);
		}
	} else {
		int *next = calloc(nranks, sizeof(int));
		int n;

		for (n = 0; n < per * (nranks - 1); n++) {
			MPI_Status st;
			int src, idx, count;

			MPI_Recv(buf, (int)len, MPI_BYTE, MPI_ANY_SOURCE,
				 MPI_ANY_TAG, MPI_COMM_WORLD, &st);
			src = st.MPI_SOURCE;
			idx = st.MPI_TAG % 1000;
			MPI_Get_count(&st, MPI_BYTE, &count);
			if (src <= 0 || src >= nranks || st.MPI_TAG / 1000 != src) {
				failf("status source %d does not match tag %d", src,
				      st.MPI_TAG);
				continue;
			}
			if (idx != next[src])
				failf("from %d: message %d arrived before %d", src,
				      idx, next[src]);
			next[src] = idx + 1;
			if ((size_t)count != len)
				failf("from %d: count %d, expected %zu", src, count, len);
			else if (check(buf, len, seed_of(src, 0, len, idx, 2)) >= 0)
				failf("from %d message %d: payload is not the sender's",
				      src, idx);
		}
		free(next);
	}
	free(buf);
	verdict(name);
}

enum reuse_kind { REUSE_MALLOC, REUSE_MMAP, REUSE_DONTNEED };

static void *reuse_get(enum reuse_kind kind, size_t len, void *want)
{
	void *p;

	switch (kind) {
	case REUSE_MALLOC:
		return xmalloc(len);
	case REUSE_MMAP:
		p = mmap(want, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | (want ? MAP_FIXED : 0), -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			MPI_Abort(MPI_COMM_WORLD, 2);
		}
		return p;
	case REUSE_DONTNEED:
		if (want) {
			/* Same mapping, pages dropped: fresh zero pages. */
			madvise(want, len, MADV_DONTNEED);
			return want;
		}
		return reuse_get(REUSE_MMAP, len, NULL);
	}
	return NULL;
}

static void reuse_put(enum reuse_kind kind, void *p, size_t len)
{
	if (kind == REUSE_MALLOC)
		free(p);
	else if (kind == REUSE_MMAP)
		munmap(p, len);
}

/*
 * Pairs: the even rank sends GENS generations of a buffer; between sends
 * it frees the buffer and gets a new one (at the same address for mmap and
 * MADV_DONTNEED, usually at the same address for malloc, which is counted)
 * and fills it with the next generation's pattern. The odd rank checks
 * each generation. A transport serving a stale cached attachment or
 * registration delivers the previous generation and fails here.
 */
static void test_reuse(enum reuse_kind kind, size_t len, int gens)
{
	static const char *const kname[] = { "malloc/free", "munmap/mmap",
					     "MADV_DONTNEED" };
	int partner = rank ^ 1, gen, same = 0, same_all;
	void *buf = NULL, *first = NULL;
	char name[128];

	if (partner < nranks) {
		char *rbuf = rank % 2 ? xmalloc(len) : NULL;

		for (gen = 0; gen < gens; gen++) {
			if (rank % 2 == 0) {
				buf = reuse_get(kind, len, kind == REUSE_MALLOC ? NULL : first);
				if (!first)
					first = buf;
				else if (buf == first)
					same++;
				fill(buf, len, seed_of(rank, partner, len, gen & 15, 3 + gen / 16));
				MPI_Send(buf, (int)len, MPI_BYTE, partner, gen, MPI_COMM_WORLD);
				/* Both sides done with generation gen. */
				MPI_Recv(NULL, 0, MPI_BYTE, partner, gen, MPI_COMM_WORLD,
					 MPI_STATUS_IGNORE);
				if (gen + 1 < gens || kind == REUSE_MALLOC)
					reuse_put(kind, buf, len);
			} else {
				recv_check(rbuf, len, partner, gen,
					   seed_of(partner, rank, len, gen & 15, 3 + gen / 16),
					   "generation");
				if (why[0] && !strstr(why, "gen "))
					snprintf(why + strlen(why), sizeof(why) - strlen(why),
						 " (gen %d)", gen);
				MPI_Send(NULL, 0, MPI_BYTE, partner, gen, MPI_COMM_WORLD);
			}
		}
		if (kind != REUSE_MALLOC && rank % 2 == 0 && first)
			reuse_put(REUSE_MMAP, first, len);
		free(rbuf);
	}
	if (kind != REUSE_MALLOC && rank % 2 == 0 && partner < nranks &&
	    same != gens - 1)
		failf("new buffer not at the same address (%d of %d)", same, gens - 1);
	MPI_Reduce(&same, &same_all, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
	snprintf(name, sizeof(name),
		 "reuse-%s: %zu bytes, %d generations (%d of %d new buffers at the old address)",
		 kname[kind], len, gens, same_all, nranks / 2 * (gens - 1));
	verdict(name);
}

int main(int argc, char **argv)
{
	size_t max_size = 64 * MiB;
	int quick = 0, i, gens, total;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = 1;
			max_size = 4 * MiB;
		} else if (!strcmp(argv[i], "--max-size") && i + 1 < argc) {
			max_size = strtoull(argv[++i], NULL, 0);
		} else {
			if (rank == 0)
				fprintf(stderr, "usage: %s [--quick] [--max-size BYTES]\n",
					argv[0]);
			MPI_Finalize();
			return 2;
		}
	}
	if (nranks < 2) {
		if (rank == 0)
			fprintf(stderr, "p2p_conformance needs at least 2 ranks\n");
		MPI_Finalize();
		return 2;
	}
	if (rank == 0) {
		printf("p2p_conformance: %d ranks, sizes up to %zu bytes%s\n",
		       nranks, max_size, quick ? " (quick)" : "");
		fflush(stdout);
	}

	test_sizes(max_size);
	test_vector(1000, 3, 7);
	test_vector(64, 4096, 4097);
	if (!quick)
		test_vector(8, 256 * 1024, 300000);
	test_anysource(100, 50);
	test_anysource(64 * 1024, 8);
	test_anysource(1 * MiB, 2);
	gens = quick ? 4 : 32;
	test_reuse(REUSE_MALLOC, 4096, gens);
	test_reuse(REUSE_MALLOC, 64 * 1024, gens);
	test_reuse(REUSE_MALLOC, 1 * MiB, gens);
	test_reuse(REUSE_MMAP, 64 * 1024, gens);
	test_reuse(REUSE_MMAP, 4 * MiB, gens);
	test_reuse(REUSE_DONTNEED, 64 * 1024, gens);
	test_reuse(REUSE_DONTNEED, 4 * MiB, gens);
	if (!quick)
		test_reuse(REUSE_MMAP, 16 * MiB, 8);

	MPI_Reduce(&failures, &total, 1, MPI_INT, MPI_MAX, 0, MPI_COMM_WORLD);
	if (rank == 0) {
		printf("p2p_conformance: %s (%d failed)\n", total ? "FAILED" : "ok",
		       total);
		fflush(stdout);
	}
	MPI_Bcast(&total, 1, MPI_INT, 0, MPI_COMM_WORLD);
	MPI_Finalize();
	return total ? 1 : 0;
}
