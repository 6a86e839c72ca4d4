/*
 * The WebSocket client side of the handshake shared by the benchmark's C clients
 * (bench/client/loadgen.c, bench/pubsub/receivers.c): reading and checking the 101.
 */
#ifndef WSX_BENCH_WS_HEAD_H
#define WSX_BENCH_WS_HEAD_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * Reads more of a 101 response into head (kept NUL-terminated, len bytes so far, room
 * for max). Returns the length of the response head once it is complete and is a 101
 * with the expected Sec-WebSocket-Accept (bytes after it are frames already), 0 while
 * it is incomplete, or -1 on a read error, end of stream, an overlong head or any
 * other response (reported on stderr under the name who).
 */
static inline ssize_t ws_read_101(int fd, char *head, size_t *len, size_t max,
				  const char *accept, const char *who)
{
	ssize_t n = read(fd, head + *len, max - 1 - *len);
	if (n <= 0) return (n < 0 && errno == EAGAIN) ? 0 : -1;
	*len += (size_t)n;
	head[*len] = 0;
	char *end = strstr(head, "\r\n\r\n");
	if (!end) return *len >= max - 1 ? -1 : 0;
	if (strncmp(head, "HTTP/1.1 101", 12) != 0 || !strstr(head, accept)) {
		fprintf(stderr, "%s: unexpected handshake response: %.80s\n", who, head);
		return -1;
	}
	return end + 4 - head;
}

#endif
