/**
 * @file sockclose.c  Close the SIP sockets of one local address
 *
 * A tenant's tenant_listen address gets a UDP and a TCP transport of
 * the phones' SIP stack.  libre 1.1.0 cannot remove one transport
 * (only sip_transp_flush, every one), so when the tenant goes the
 * sockets are closed under libre: each socket bound to the address is
 * found among the process's descriptors, and
 *
 * - the UDP socket and the TCP listening socket are replaced (dup2) by
 *   a fresh socket that is bound to nothing.  The address is free at
 *   once (the kernel closes the old socket, and epoll forgets it);
 *   libre keeps a descriptor that never has anything to read, and
 *   closes it with its stack;
 * - TCP connections phones opened to it are shut down: libre reads
 *   their end and closes them as any other.
 *
 * libre sends requests from the first transport of their family, a
 * sip_listen one (opened first), never from a tenant's.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <stdlib.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/socket.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


/* Put an unbound socket of the same kind in fd's place */
static int replace(int fd, int af, int type)
{
	int dummy, err = 0;

	dummy = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (dummy < 0)
		return errno;

	if (dup2(dummy, fd) < 0)
		err = errno;
	(void)close(dummy);

	return err;
}


/* One descriptor: closed (its way) if it is a socket bound to laddr */
static int fd_close_if(int fd, const struct sa *laddr, unsigned *n)
{
	struct sa local;
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	local.len = sizeof(local.u);
	if (getsockname(fd, &local.u.sa, &local.len) ||
	    !sa_cmp(&local, laddr, SA_ALL))
		return 0;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len))
		return errno;

	len = sizeof(listening);
	if (type == SOCK_STREAM &&
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len))
		return errno;

	++*n;
	if (type == SOCK_STREAM && !listening)
		return shutdown(fd, SHUT_RDWR) ? errno : 0;

	return replace(fd, sa_af(laddr), type);
}


/**
 * Close every socket bound to a local address (see the file's banner)
 *
 * @param laddr Local address (and port)
 * @param np    Where to store the number of sockets closed, or NULL
 *
 * @return 0 if success, otherwise errorcode
 */
int sockclose_addr(const struct sa *laddr, unsigned *np)
{
	struct dirent *de;
	unsigned n = 0;
	int err = 0;
	DIR *d;

	if (!laddr || !sa_isset(laddr, SA_ALL))
		return EINVAL;

	d = opendir("/proc/self/fd");
	if (!d)
		return errno;

	while ((de = readdir(d)) != NULL) {
		const int fd = atoi(de->d_name);
		int ferr;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    fd == dirfd(d))
			continue;

		ferr = fd_close_if(fd, laddr, &n);
		if (ferr && !err)
			err = ferr;
	}

	(void)closedir(d);
	sipsock_forget(laddr);
	if (np)
		*np = n;

	return err;
}
