// SPDX-License-Identifier: GPL-2.0
/*
 * pingpong.c - MPI ping-pong between ranks 0 and 1, 1 KiB .. 64 MiB: half
 * the round-trip time and the bandwidth (size / half round trip) per size.
 * mpi-tests/run_guest_mpi.sh runs it once per transport (xpmem, CMA, the
 * stock Debian stack) and prints the ratios. The first round of each size
 * is a warm-up (connection setup, attachment, registration) and not timed;
 * it also sizes the run: as many rounds as fit in about 1 s (at least 2, at
 * most 200), so that slow transports under TCG do not take minutes. The
 * first and last byte received are checked every round, so a fast wrong
 * answer cannot pass.
 *
 * Usage: pingpong [MAX_BYTES]     Output, on rank 0, one line per size:
 *   PP <bytes> <usec per one-way> <MB/s>
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	size_t max = 64UL << 20, len;
	int rank, nranks, bad = 0;
	char *buf;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	if (argc > 1)
		max = strtoull(argv[1], NULL, 0);
	if (nranks < 2) {
		if (rank == 0)
			fprintf(stderr, "pingpong needs 2 ranks\n");
		MPI_Finalize();
		return 2;
	}
	buf = malloc(max);
	if (!buf) {
		fprintf(stderr, "pingpong: out of memory\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	memset(buf, rank, max);
	for (len = 1024; len <= max && rank < 2; len *= 4) {
		int iters = 2, i;
		double t0 = MPI_Wtime(), t;

		for (i = -1; i < iters; i++) {
			if (i == 0) {
				/* Rank 0 sizes the run from the warm-up round. */
				t = MPI_Wtime() - t0;
				if (rank == 0) {
					iters = t > 0 ? (int)(1.0 / t) : 200;
					iters = iters < 2 ? 2 : iters > 200 ? 200 : iters;
					MPI_Send(&iters, 1, MPI_INT, 1, 1, MPI_COMM_WORLD);
				} else {
					MPI_Recv(&iters, 1, MPI_INT, 0, 1, MPI_COMM_WORLD,
						 MPI_STATUS_IGNORE);
				}
				t0 = MPI_Wtime();
			}
			if (rank == 0) {
				buf[0] = (char)i;
				buf[len - 1] = (char)(i + 1);
				MPI_Send(buf, (int)len, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
				MPI_Recv(buf, (int)len, MPI_BYTE, 1, 0, MPI_COMM_WORLD,
					 MPI_STATUS_IGNORE);
			} else {
				MPI_Recv(buf, (int)len, MPI_BYTE, 0, 0, MPI_COMM_WORLD,
					 MPI_STATUS_IGNORE);
				if (buf[0] != (char)i || buf[len - 1] != (char)(i + 1))
					bad = 1;
				MPI_Send(buf, (int)len, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
			}
		}
		t = (MPI_Wtime() - t0) / iters / 2;
		if (rank == 0) {
			printf("PP %zu %.2f %.1f\n", len, t * 1e6, len / t / 1e6);
			fflush(stdout);
		}
	}
	MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
	if (bad && rank == 0)
		printf("pingpong: FAIL: rank 1 received wrong bytes\n");
	free(buf);
	MPI_Finalize();
	return bad;
}
