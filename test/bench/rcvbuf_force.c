/**
 * @file rcvbuf_force.c  SO_RCVBUF as SO_RCVBUFFORCE, for Kamailio in the
 *                       comparison (make bench-compare)
 *
 * Kamailio sizes its UDP receive buffer with SO_RCVBUF (the core's
 * maxbuffer), which the kernel caps at net.core.rmem_max (4 MiB here);
 * parkblf asks with SO_RCVBUFFORCE, which a privileged process may use
 * beyond that cap.  At 1,000 watchers Kamailio's socket overflowed with
 * the watchers' 200 OKs (thousands dropped per throughput phase, each a
 * NOTIFY retransmission).  test/bench/compare.sh preloads this into
 * Kamailio so that its probe reaches the maxbuffer of its config: the
 * same means parkblf uses, no sysctl changed on a shared machine.
 * Without the privilege, SO_RCVBUFFORCE fails and SO_RCVBUF is used.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <sys/socket.h>


typedef int (setsockopt_h)(int fd, int level, int name, const void *val,
			   socklen_t len);


int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static setsockopt_h *real;

	if (!real) {
		void *sym = dlsym(RTLD_NEXT, "setsockopt");

		*(void **)&real = sym;
		if (!real)
			return -1;
	}

	if (level == SOL_SOCKET && name == SO_RCVBUF &&
	    !real(fd, level, SO_RCVBUFFORCE, val, len))
		return 0;

	return real(fd, level, name, val, len);
}
