/*
 * receivers: the broadcast receivers of the pub/sub benchmark (bench/pubsub/run.mjs).
 *
 * Opens C WebSocket connections to one server and counts the data frames that arrive on
 * all of them, parsing only the server's frame headers; payloads are skipped. A Node.js
 * client at 10,000 connections would spend more CPU than the server under test, so this
 * is a small single-threaded epoll program: nothing is parsed, copied or allocated per
 * frame.
 *
 *   receivers --port P --conns C [--path /] [--concurrency K] [--seconds S]
 *
 * stdout, one JSON object a line: {"event":"ready",...} once every connection is open,
 * {"event":"reached",...} for each "wait N" line read on stdin once N frames (counted
 * since start) have arrived, {"event":"count",...} for each "count" line. It stops on
 * "quit", at the end of stdin, after S seconds (hard alarm), or when its parent dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../client/ws_head.h"

#define READ_BUF (1 << 20)
#define HEAD_MAX 1024

/* RFC 6455 section 1.3: the sample key and the accept value the server must answer. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

enum state { S_IDLE, S_CONNECTING, S_HEAD, S_OPEN, S_DEAD };

struct conn {
	int fd;
	enum state state;
	size_t head_len;
	/* The incremental header parser: bytes of the current header, then payload to skip. */
	uint8_t hdr[14];
	int have;
	uint64_t skip;
	char head[HEAD_MAX];
};

static struct conn *conns;
static int n_conns = 0, port = 0, concurrency = 256, max_seconds = 600;
static const char *path = "/";
static int ep;
static long opened = 0, failed = 0;
static uint64_t frames = 0, closes = 0, bytes_in = 0;
static uint64_t waits[64];
static int n_waits = 0;
static uint8_t *buf;
static char request[512];
static int request_len;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void start_conn(struct conn *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) die("socket");
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) die("connect");
	c->state = S_CONNECTING;
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
}

static void fail_conn(struct conn *c)
{
	if (c->state == S_OPEN) closes++;
	else failed++;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->state = S_DEAD;
}

/* Counts whole frames in a chunk of server bytes, carrying partial headers over. */
static void count_frames(struct conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (c->skip > 0) {
			size_t k = c->skip < n ? (size_t)c->skip : n;
			c->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		c->hdr[c->have++] = *p++;
		n--;
		if (c->have < 2) continue;
		int len7 = c->hdr[1] & 0x7f;
		int need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
		if (c->have < need) continue;
		uint64_t len = (uint64_t)len7;
		if (len7 == 126) len = ((uint64_t)c->hdr[2] << 8) | c->hdr[3];
		if (len7 == 127) {
			len = 0;
			for (int i = 2; i < 10; i++) len = (len << 8) | c->hdr[i];
		}
		int opcode = c->hdr[0] & 0x0f;
		if (opcode == 1 || opcode == 2) frames++;
		c->skip = len;
		c->have = 0;
	}
}

static void on_head(struct conn *c)
{
	ssize_t got = ws_read_101(c->fd, c->head, &c->head_len, HEAD_MAX, WS_ACCEPT, "receivers");
	if (got < 0) return fail_conn(c);
	if (got == 0) return;
	c->state = S_OPEN;
	opened++;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	size_t used = (size_t)got;
	if (c->head_len > used) count_frames(c, (uint8_t *)c->head + used, c->head_len - used);
}

static void on_event(struct conn *c, uint32_t events)
{
	if (c->state == S_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || write(c->fd, request, request_len) != request_len) return fail_conn(c);
		c->state = S_HEAD;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		return;
	}
	if (c->state == S_HEAD) return on_head(c);
	if (c->state != S_OPEN) return;
	for (;;) {
		ssize_t n = read(c->fd, buf, READ_BUF);
		if (n < 0) {
			if (errno == EAGAIN) return;
			if (errno == EINTR) continue;
			return fail_conn(c);
		}
		if (n == 0) return fail_conn(c);
		bytes_in += (uint64_t)n;
		count_frames(c, buf, (size_t)n);
		if (n < READ_BUF) return;
	}
}

static void report(const char *event)
{
	printf("{\"event\":\"%s\",\"open\":%ld,\"failed\":%ld,\"closed\":%llu,\"frames\":%llu,\"bytes\":%llu,"
		"\"t\":%.6f}\n", event, opened, failed, (unsigned long long)closes, (unsigned long long)frames,
		(unsigned long long)bytes_in, now_s());
	fflush(stdout);
}

/* Reads stdin commands; returns 0 to stop. */
static int on_stdin(void)
{
	static char line[256];
	static int len = 0;
	ssize_t n = read(0, line + len, sizeof line - 1 - len);
	if (n <= 0) return 0;
	len += (int)n;
	line[len] = 0;
	char *nl;
	while ((nl = strchr(line, '\n'))) {
		*nl = 0;
		if (!strncmp(line, "wait ", 5) && n_waits < 64) waits[n_waits++] = strtoull(line + 5, NULL, 10);
		else if (!strcmp(line, "count")) report("count");
		else if (!strcmp(line, "quit")) return 0;
		int rest = len - (int)(nl + 1 - line);
		memmove(line, nl + 1, (size_t)rest + 1);
		len = rest;
	}
	if (len >= (int)sizeof line - 1) len = 0;
	return 1;
}

static void check_waits(void)
{
	for (int i = 0; i < n_waits;) {
		if (frames >= waits[i]) {
			report("reached");
			waits[i] = waits[--n_waits];
		} else {
			i++;
		}
	}
}

static void parse(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--port")) port = atoi(v);
		else if (!strcmp(k, "--conns")) n_conns = atoi(v);
		else if (!strcmp(k, "--path")) path = v;
		else if (!strcmp(k, "--concurrency")) concurrency = atoi(v);
		else if (!strcmp(k, "--seconds")) max_seconds = atoi(v);
		else {
			fprintf(stderr, "receivers: unknown option %s\n", k);
			exit(2);
		}
	}
	if (port <= 0 || n_conns <= 0 || concurrency <= 0 || max_seconds <= 0) {
		fprintf(stderr, "usage: receivers --port P --conns C [--path /] [--concurrency K] [--seconds S]\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	parse(argc, argv);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)max_seconds);
	request_len = snprintf(request, sizeof request,
		"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n", path, port);
	conns = calloc((size_t)n_conns, sizeof *conns);
	buf = malloc(READ_BUF);
	if (!conns || !buf) die("malloc");
	ep = epoll_create1(0);
	if (ep < 0) die("epoll_create1");
	struct epoll_event in = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in) < 0) die("epoll_ctl stdin");
	struct epoll_event evs[1024];
	int next = 0, ready = 0;
	double t0 = now_s();
	for (;;) {
		while (next < n_conns && next - (opened + failed) < concurrency) start_conn(&conns[next++]);
		int n = epoll_wait(ep, evs, 1024, 50);
		if (n < 0 && errno != EINTR) die("epoll_wait");
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				if (!on_stdin()) goto done;
			} else {
				on_event(evs[i].data.ptr, evs[i].events);
			}
		}
		if (!ready && opened + failed >= n_conns) {
			ready = 1;
			printf("{\"event\":\"ready\",\"open\":%ld,\"failed\":%ld,\"seconds\":%.3f}\n", opened, failed,
				now_s() - t0);
			fflush(stdout);
		}
		if (n_waits > 0) check_waits();
	}
done:
	report("done");
	return 0;
}
