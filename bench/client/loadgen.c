/*
 * loadgen: the load generator of the wsx benchmark (driven by bench/run.mjs).
 *
 * A JavaScript client on a 2-core machine saturates its own core long before a good
 * server does, so the client is a small single-threaded C program: epoll, non-blocking
 * sockets, client frames masked once at start-up (RFC 6455 section 5.3 requires every
 * client frame to be masked; a fixed key is allowed to a benchmark) and sent straight
 * from that pre-built buffer, and echoed frames counted by parsing only the server's
 * unmasked frame headers.
 *
 *   loadgen echo      --port P [--raw] --conns C --depth D --size N --seconds S
 *                     [--warmup W] [--max-msgs M]
 *       C connections, each keeping D messages of N bytes in flight. Prints messages/s;
 *       with D = 1 also the round-trip latency p50/p99. --raw speaks plain TCP to an
 *       echo server and counts echoed bytes / N.
 *   loadgen handshake --port P --conns C --seconds S [--warmup W]
 *       C slots, each one connection after another: handshake, close frame, wait for
 *       the server's close frame and its end of the TCP connection. Prints handshakes/s.
 *   loadgen hold      --port P [--raw] --conns C --seconds S [--concurrency K]
 *       Opens C idle connections (at most K handshakes at once; --raw: plain TCP),
 *       prints a "ready" line, then holds them until stdin closes or S seconds pass.
 *
 * Every mode prints one JSON object a line on stdout, and stops by itself: the run is
 * bounded by --seconds, a hard alarm() and the parent's death (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ws_head.h"

/* RFC 6455 section 1.3: the sample key and the accept value a server must answer. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define HEAD_MAX 512
#define READ_BUF (1 << 20)
#define ATTEMPT_TIMEOUT_S 5.0
#define MAX_LATENCY_SAMPLES 4000000

enum mode { MODE_ECHO, MODE_HANDSHAKE, MODE_HOLD };
enum state { S_FREE, S_CONNECTING, S_REQUEST, S_RESPONSE, S_OPEN, S_CLOSING };

struct options {
	enum mode mode;
	int port, raw, conns, depth, concurrency;
	size_t size;
	double seconds, warmup;
	long max_msgs;
};

/* The incremental parser of server frames: header bytes, then payload to skip. */
struct frame_reader {
	uint8_t hdr[14];
	int have;            /* header bytes collected */
	uint64_t left;       /* payload bytes still to skip; valid once the header is whole */
	int in_payload;
	uint8_t opcode;
	uint64_t length;
};

struct conn {
	int fd;
	enum state state;
	int armed_out;        /* EPOLLOUT is in the interest set */
	int got_close;        /* the server's close frame arrived */
	double started;       /* when this connection attempt began */
	double sent_at;       /* depth 1: when the message in flight was sent */
	size_t req_sent;
	uint64_t out_pending; /* bytes of the send stream still to write */
	size_t out_pos;       /* offset in the pre-built buffer, inside its first frame */
	uint64_t raw_have;    /* raw mode: bytes of the current message received */
	long echoed;          /* messages completed in the chunk being parsed */
	size_t head_len;
	char head[HEAD_MAX];
	struct frame_reader fr;
};

/* Everything the event loop shares. */
static struct options opt;
static struct conn *conns;
static int ep;
static uint8_t *out_buf; /* depth copies of one frame (or raw message) */
static size_t frame_len, out_buf_len;
static uint8_t close_frame[8];
static char request[256];
static size_t request_len;
static uint8_t read_buf[READ_BUF];

/* Counters. */
static int measuring;
static long messages, handshakes, errors, opened, bad_frames;
static long reads, writes; /* syscalls in the window: messages per read shows the batching */
static double *samples;
static long n_samples;

/* CPU seconds (user + system) this process has used: shows whether the client saturates. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- frames ---- */

/* Writes a masked client frame header; returns its length. */
static size_t frame_header(uint8_t *p, uint8_t first, uint64_t len, const uint8_t key[4])
{
	size_t n = 0;
	p[n++] = first;
	if (len < 126) {
		p[n++] = 0x80 | (uint8_t)len;
	} else if (len < 65536) {
		p[n++] = 0x80 | 126;
		p[n++] = (uint8_t)(len >> 8);
		p[n++] = (uint8_t)len;
	} else {
		p[n++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--) p[n++] = (uint8_t)(len >> (8 * i));
	}
	memcpy(p + n, key, 4);
	return n + 4;
}

static void build_buffers(void)
{
	static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
	uint8_t frame[14];
	size_t size = opt.size;
	if (opt.raw) {
		frame_len = size;
	} else {
		size_t h = frame_header(frame, 0x82, size, key); /* FIN + binary */
		frame_len = h + size;
	}
	out_buf_len = frame_len * (size_t)opt.depth;
	out_buf = malloc(out_buf_len ? out_buf_len : 1);
	if (!out_buf) die("malloc");
	size_t h = frame_len - size;
	for (size_t i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(i * 31 + 7);
		out_buf[h + i] = opt.raw ? b : b ^ key[i & 3];
	}
	memcpy(out_buf, frame, h);
	for (int d = 1; d < opt.depth; d++) memcpy(out_buf + d * frame_len, out_buf, frame_len);

	/* Close frame with code 1000 (RFC 6455 section 7.4.1), masked. */
	size_t ch = frame_header(close_frame, 0x88, 2, key);
	close_frame[ch] = 0x03 ^ key[0];
	close_frame[ch + 1] = 0xe8 ^ key[1];

	request_len = (size_t)snprintf(request, sizeof request,
		"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Key: " WS_KEY "\r\n"
		"Sec-WebSocket-Version: 13\r\n\r\n", opt.port);
}

/*
 * Feeds server bytes to the frame reader. Calls on_frame for each complete frame.
 * Servers do not mask (RFC 6455 section 5.1); a masked frame is still skipped correctly.
 */
static void on_frame(struct conn *c, uint8_t opcode, uint64_t length);

static void read_frames(struct conn *c, const uint8_t *p, size_t n)
{
	struct frame_reader *fr = &c->fr;
	while (n > 0) {
		if (fr->in_payload) {
			uint64_t take = fr->left < n ? fr->left : n;
			fr->left -= take;
			p += take;
			n -= take;
			if (fr->left == 0) {
				fr->in_payload = 0;
				fr->have = 0;
				on_frame(c, fr->opcode, fr->length);
			}
			continue;
		}
		fr->hdr[fr->have++] = *p++;
		n--;
		if (fr->have < 2) continue;
		int len7 = fr->hdr[1] & 0x7f;
		int need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((fr->hdr[1] & 0x80) ? 4 : 0);
		if (fr->have < need) continue;
		uint64_t len = (uint64_t)len7;
		if (len7 == 126) len = ((uint64_t)fr->hdr[2] << 8) | fr->hdr[3];
		if (len7 == 127) {
			len = 0;
			for (int i = 2; i < 10; i++) len = (len << 8) | fr->hdr[i];
		}
		fr->opcode = fr->hdr[0] & 0x0f;
		fr->length = len;
		fr->left = len;
		fr->in_payload = 1;
		if (len == 0) { /* complete with no payload */
			fr->in_payload = 0;
			fr->have = 0;
			on_frame(c, fr->opcode, 0);
		}
	}
}

/* ---- connections ---- */

static void set_interest(struct conn *c, int want_out)
{
	if (c->armed_out == want_out) return;
	struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
	c->armed_out = want_out;
}

static void start_conn(struct conn *c)
{
	memset(c, 0, sizeof *c);
	c->started = now_s();
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) die("socket");
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) die("connect");
	c->state = S_CONNECTING;
	c->armed_out = 1;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
}

static void end_conn(struct conn *c)
{
	close(c->fd); /* also removes it from the epoll set */
	c->fd = -1;
	c->state = S_FREE;
}

static void fail_conn(struct conn *c)
{
	errors++;
	end_conn(c);
}

/* Writes as much of the pending send stream as the socket takes. */
static void flush_out(struct conn *c)
{
	while (c->out_pending > 0) {
		size_t len = out_buf_len - c->out_pos;
		if (len > c->out_pending) len = (size_t)c->out_pending;
		ssize_t n = write(c->fd, out_buf + c->out_pos, len);
		writes += measuring;
		if (n < 0) {
			if (errno == EAGAIN) break;
			if (errno == EINTR) continue;
			return fail_conn(c);
		}
		c->out_pending -= (uint64_t)n;
		c->out_pos = (c->out_pos + (size_t)n) % frame_len;
	}
	set_interest(c, c->out_pending > 0);
}

/* Echo: fills the pipeline of an open connection. */
static void start_pipeline(struct conn *c)
{
	c->out_pending = (uint64_t)opt.depth * frame_len;
	c->sent_at = now_s();
	flush_out(c);
}

/*
 * The connection is open. Echo connections wait until all are open, so that no
 * handshake competes with echo traffic; handshake mode sends its close frame at once.
 */
static void on_open(struct conn *c)
{
	c->state = S_OPEN;
	opened++;
	if (opt.mode == MODE_HANDSHAKE) {
		c->state = S_CLOSING;
		if (write(c->fd, close_frame, sizeof close_frame) != (ssize_t)sizeof close_frame) fail_conn(c);
	} else {
		set_interest(c, 0);
	}
}

/* Echo: k messages came back; count them and send k more. */
static void on_echoed(struct conn *c, long k)
{
	if (measuring) {
		messages += k;
		if (opt.depth == 1 && n_samples < MAX_LATENCY_SAMPLES) {
			double t = now_s();
			samples[n_samples++] = t - c->sent_at;
			c->sent_at = t;
		}
	} else if (opt.depth == 1) {
		c->sent_at = now_s();
	}
	c->out_pending += (uint64_t)k * frame_len;
	flush_out(c);
}

static void on_frame(struct conn *c, uint8_t opcode, uint64_t length)
{
	if (opcode == 0x8) {
		c->got_close = 1;
	} else if (c->state == S_OPEN && opt.mode == MODE_ECHO && opcode == 0x2 && length == opt.size) {
		c->echoed++; /* answered once the whole chunk is parsed: one write per chunk */
	} else if (opcode != 0x9 && opcode != 0xa) {
		bad_frames++;
	}
}

/* Reads the 101 response; bytes after its head are frames already. */
static void read_response(struct conn *c)
{
	ssize_t got = ws_read_101(c->fd, c->head, &c->head_len, HEAD_MAX, WS_ACCEPT, "loadgen");
	if (got < 0) return fail_conn(c);
	if (got == 0) return;
	size_t used = (size_t)got;
	on_open(c);
	if (c->state != S_FREE && c->head_len > used) {
		read_frames(c, (uint8_t *)c->head + used, c->head_len - used);
		c->echoed = 0; /* echo pipelines start only once every connection is open */
	}
}

static void read_data(struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, read_buf, READ_BUF);
		reads += measuring;
		if (n < 0) {
			if (errno == EAGAIN) return;
			if (errno == EINTR) continue;
			return fail_conn(c);
		}
		if (n == 0) { /* the server ended the connection */
			if (c->state == S_CLOSING && c->got_close) {
				if (measuring) handshakes++;
				return end_conn(c);
			}
			return fail_conn(c);
		}
		if (opt.raw) {
			c->raw_have += (uint64_t)n;
			long k = (long)(c->raw_have / opt.size);
			c->raw_have %= opt.size;
			if (k > 0) on_echoed(c, k);
		} else {
			read_frames(c, read_buf, (size_t)n);
			long k = c->echoed;
			c->echoed = 0;
			if (k > 0 && c->state == S_OPEN) on_echoed(c, k);
		}
		if (c->state == S_FREE || n < READ_BUF) return;
	}
}

static void on_writable(struct conn *c)
{
	if (c->state == S_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) return fail_conn(c);
		if (opt.raw) return on_open(c);
		c->state = S_REQUEST;
	}
	if (c->state == S_REQUEST) {
		ssize_t n = write(c->fd, request + c->req_sent, request_len - c->req_sent);
		if (n < 0) {
			if (errno != EAGAIN) fail_conn(c);
			return;
		}
		c->req_sent += (size_t)n;
		if (c->req_sent == request_len) {
			c->state = S_RESPONSE;
			set_interest(c, 0);
		}
		return;
	}
	if (c->state == S_OPEN) flush_out(c);
}

static void on_event(struct conn *c, uint32_t events)
{
	if (c->state == S_FREE) return;
	if (events & (EPOLLOUT | EPOLLERR)) on_writable(c);
	if (c->state == S_FREE || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
	if (c->state == S_RESPONSE) read_response(c);
	else if (c->state == S_OPEN || c->state == S_CLOSING) read_data(c);
}

/* ---- results ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted samples, in microseconds. */
static double percentile_us(double p)
{
	long rank = (long)((p / 100.0) * (double)n_samples + 0.999999);
	if (rank < 1) rank = 1;
	if (rank > n_samples) rank = n_samples;
	return samples[rank - 1] * 1e6;
}

static double open_seconds; /* echo: how long opening every connection took */

static void print_echo(double elapsed, double cpu)
{
	printf("{\"mode\":\"echo\",\"transport\":\"%s\",\"conns\":%d,\"depth\":%d,\"size\":%zu,"
		"\"seconds\":%.4f,\"messages\":%ld,\"msgs_per_s\":%.1f,\"mib_per_s\":%.2f,"
		"\"client_cpu\":%.3f,\"cpu_total_s\":%.3f,\"reads\":%ld,\"writes\":%ld,"
		"\"open_seconds\":%.3f,\"open\":%ld,\"errors\":%ld,\"bad_frames\":%ld",
		opt.raw ? "raw" : "ws", opt.conns, opt.depth, opt.size, elapsed, messages,
		messages / elapsed, messages * (double)opt.size / elapsed / 1048576.0, cpu / elapsed,
		cpu_s(), reads, writes, open_seconds, opened, errors, bad_frames);
	if (n_samples > 0) {
		qsort(samples, (size_t)n_samples, sizeof *samples, cmp_double);
		printf(",\"latency_us\":{\"samples\":%ld,\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f}",
			n_samples, percentile_us(50), percentile_us(99), samples[n_samples - 1] * 1e6);
	}
	printf("}\n");
}

/* ---- modes ---- */

static int all_open(void)
{
	return opened + errors >= opt.conns;
}

static void run_echo_or_handshake(void)
{
	struct epoll_event evs[1024];
	for (int i = 0; i < opt.conns; i++) start_conn(&conns[i]);
	double t0 = now_s();
	/* Echo: pipelines and warm-up start once every connection is open (or 10 s passed). */
	double t_measure = 0, t_end = 0, cpu0 = 0;
	int started = opt.mode == MODE_HANDSHAKE;
	if (started) t_measure = t0 + opt.warmup;
	for (;;) {
		int n = epoll_wait(ep, evs, 1024, 5);
		if (n < 0 && errno != EINTR) die("epoll_wait");
		for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events);
		double t = now_s();
		if (!started && (all_open() || t - t0 > 10)) {
			started = 1;
			open_seconds = t - t0;
			t_measure = t + opt.warmup;
			for (int i = 0; i < opt.conns; i++)
				if (conns[i].state == S_OPEN) start_pipeline(&conns[i]);
		}
		if (started && !measuring && t >= t_measure) {
			measuring = 1;
			t_measure = t;
			cpu0 = cpu_s();
			/* The runner samples the server's CPU time on this line and on the result. */
			printf("{\"event\":\"measuring\"}\n");
			fflush(stdout);
			t_end = t + opt.seconds;
		}
		if (measuring && (t >= t_end || (opt.max_msgs > 0 && messages >= opt.max_msgs))) {
			double elapsed = t - t_measure, cpu = cpu_s() - cpu0;
			if (opt.mode == MODE_ECHO) print_echo(elapsed, cpu);
			else
				printf("{\"mode\":\"handshake\",\"conns\":%d,\"seconds\":%.4f,\"handshakes\":%ld,"
					"\"per_s\":%.1f,\"client_cpu\":%.3f,\"cpu_total_s\":%.3f,\"errors\":%ld,"
					"\"bad_frames\":%ld}\n",
					opt.conns, elapsed, handshakes, handshakes / elapsed, cpu / elapsed, cpu_s(),
					errors, bad_frames);
			return;
		}
		if (opt.mode == MODE_HANDSHAKE) {
			/* Refill free slots; give up on attempts that hang. */
			for (int i = 0; i < opt.conns; i++) {
				struct conn *c = &conns[i];
				if (c->state != S_FREE && t - c->started > ATTEMPT_TIMEOUT_S) fail_conn(c);
				if (c->state == S_FREE) start_conn(c);
			}
		}
	}
}

static void run_hold(void)
{
	struct epoll_event evs[1024];
	struct epoll_event in = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in) < 0) die("epoll_ctl stdin");
	double t0 = now_s(), t_ready = 0, t_scan = t0;
	int next = 0, in_progress = 0, ready = 0;
	for (;;) {
		/* Keep at most `concurrency` handshakes going. */
		in_progress = next - (int)(opened + errors);
		while (next < opt.conns && in_progress < opt.concurrency) {
			start_conn(&conns[next++]);
			in_progress++;
		}
		int n = epoll_wait(ep, evs, 1024, 20);
		if (n < 0 && errno != EINTR) die("epoll_wait");
		int quit = 0;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) quit = 1; /* stdin: a line or its end */
			else on_event(evs[i].data.ptr, evs[i].events);
		}
		double t = now_s();
		/* Hung attempts are looked for ten times a second: a scan of every connection on
		 * each wake-up would make this client, not the server, the limit at 10,000. */
		if (t - t_scan >= 0.1) {
			t_scan = t;
			for (int i = 0; i < next; i++) {
				struct conn *c = &conns[i];
				if (c->state != S_FREE && c->state != S_OPEN && t - c->started > ATTEMPT_TIMEOUT_S) fail_conn(c);
			}
		}
		if (!ready && all_open()) {
			ready = 1;
			t_ready = t;
			printf("{\"event\":\"ready\",\"open\":%ld,\"errors\":%ld,\"seconds\":%.3f,"
				"\"client_cpu_s\":%.3f}\n", opened, errors, t - t0, cpu_s());
			fflush(stdout);
		}
		if (quit || t - t0 > opt.seconds) break;
	}
	long still_open = 0;
	for (int i = 0; i < next; i++)
		if (conns[i].state == S_OPEN) still_open++;
	printf("{\"event\":\"done\",\"open\":%ld,\"still_open\":%ld,\"errors\":%ld,\"bad_frames\":%ld,"
		"\"held_seconds\":%.3f}\n", opened, still_open, errors, bad_frames, ready ? now_s() - t_ready : 0);
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr, "usage: loadgen echo|handshake|hold --port P [--raw] [--conns C] [--depth D]\n"
		"       [--size N] [--seconds S] [--warmup W] [--max-msgs M] [--concurrency K]\n");
	exit(2);
}

static void parse(int argc, char **argv)
{
	opt = (struct options){.conns = 1, .depth = 1, .size = 32, .seconds = 2, .warmup = 0.25,
		.concurrency = 256};
	if (argc < 2) usage();
	if (!strcmp(argv[1], "echo")) opt.mode = MODE_ECHO;
	else if (!strcmp(argv[1], "handshake")) opt.mode = MODE_HANDSHAKE;
	else if (!strcmp(argv[1], "hold")) opt.mode = MODE_HOLD;
	else usage();
	for (int i = 2; i < argc; i++) {
		const char *k = argv[i];
		if (!strcmp(k, "--raw")) { opt.raw = 1; continue; }
		if (i + 1 >= argc) usage();
		const char *v = argv[++i];
		if (!strcmp(k, "--port")) opt.port = atoi(v);
		else if (!strcmp(k, "--conns")) opt.conns = atoi(v);
		else if (!strcmp(k, "--depth")) opt.depth = atoi(v);
		else if (!strcmp(k, "--size")) opt.size = (size_t)atol(v);
		else if (!strcmp(k, "--seconds")) opt.seconds = atof(v);
		else if (!strcmp(k, "--warmup")) opt.warmup = atof(v);
		else if (!strcmp(k, "--max-msgs")) opt.max_msgs = atol(v);
		else if (!strcmp(k, "--concurrency")) opt.concurrency = atoi(v);
		else usage();
	}
	if (opt.port <= 0 || opt.conns < 1 || opt.depth < 1 || opt.size < 1 || opt.size > 16 << 20 ||
		opt.seconds <= 0 || opt.concurrency < 1 || (opt.raw && opt.mode == MODE_HANDSHAKE))
		usage();
}

int main(int argc, char **argv)
{
	parse(argc, argv);
	/* Bounded no matter what: die with the parent, and after a hard deadline. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm((unsigned)(opt.seconds + opt.warmup + 30));
	signal(SIGPIPE, SIG_IGN);
	build_buffers();
	conns = calloc((size_t)opt.conns, sizeof *conns);
	samples = opt.depth == 1 && opt.mode == MODE_ECHO ? malloc(MAX_LATENCY_SAMPLES * sizeof *samples) : NULL;
	if (!conns || (opt.depth == 1 && opt.mode == MODE_ECHO && !samples)) die("calloc");
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) die("epoll_create1");
	if (opt.mode == MODE_HOLD) run_hold();
	else run_echo_or_handshake();
	fflush(stdout);
	return 0; /* the kernel closes every socket */
}
