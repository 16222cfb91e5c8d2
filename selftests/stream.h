/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Data streams for the connection tests: a keyed pseudo-random stream in
 * which the byte at offset N of stream S depends on S and N only, so that
 * a byte lost, duplicated, reordered or shifted is caught at the offset
 * where it happened; and threads that write such a stream and read and
 * check it, rotating through the system calls that move data.  Either
 * end can also take a SHA-256 of the bytes it moved (OpenSSL's EVP API):
 * the digests of the two ends are an independent, end-to-end proof that
 * what arrived is what was sent, on top of the check against the
 * generator.
 *
 * Include after cluster.h; link with -pthread and libcrypto.
 */
#ifndef MIGTCP_STREAM_H
#define MIGTCP_STREAM_H

#include <openssl/evp.h>
#include <pthread.h>
#include <sys/uio.h>

/*
 * Guard while streams run, so that a broken module fails instead of
 * hanging.  Loss can stall a connection for several backed-off RTOs: the
 * k-th consecutive loss of one segment costs RTO x 2^k more, and from the
 * 200 ms minimum 6 losses in a row already take 25 s (one loss event in
 * a million at 10%, and the 10% tests lose dozens per run).  60 s takes 8
 * in a row: none of the tests' loss rates makes that a real chance.
 */
#define XFER_GUARD_SEC	60

#define KiB		1024UL
#define MiB		(1024UL * 1024UL)

#define SHA256_LEN	32

/*
 * A running SHA-256 of the bytes one end of a stream moved; ctx is NULL
 * when the end does not hash.  An EVP failure leaves err set and the
 * digest all zero, which never matches the other end's.
 */
struct sha256 {
	EVP_MD_CTX *ctx;
	bool err;
	__u8 digest[SHA256_LEN];
};

static inline void sha256_begin(struct sha256 *h)
{
	memset(h, 0, sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL))
		h->err = true;
}

static inline void sha256_add(struct sha256 *h, const void *buf, size_t len)
{
	if (h->ctx && !h->err && len && !EVP_DigestUpdate(h->ctx, buf, len))
		h->err = true;
}

static inline void sha256_end(struct sha256 *h)
{
	unsigned int len = 0;

	if (!h->ctx)
		return;
	if (!h->err &&
	    (!EVP_DigestFinal_ex(h->ctx, h->digest, &len) || len != SHA256_LEN))
		h->err = true;
	if (h->err)
		memset(h->digest, 0, sizeof(h->digest));
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

/* @d as 64 hex digits and a NUL, in @hex. */
static inline const char *sha256_hex(const __u8 *d, char *hex)
{
	int i;

	for (i = 0; i < SHA256_LEN; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
	return hex;
}

/* The data stream: byte @off of stream @seed. */

static inline __u64 splitmix64(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline void pattern_fill(__u8 *buf, size_t len, __u64 seed,
				__u64 off)
{
	__u64 key = splitmix64(seed), word = 0;
	size_t i;

	for (i = 0; i < len; i++, off++) {
		if (i == 0 || !(off & 7))
			word = splitmix64(key ^ (off >> 3));
		buf[i] = word >> ((off & 7) * 8);
	}
}

/* Index of the first byte of @buf that is not stream @seed at @off, or -1. */
static inline long pattern_check(const __u8 *buf, size_t len, __u64 seed,
				 __u64 off, __u8 *want)
{
	__u8 expect[4096];
	size_t done, n, i;

	for (done = 0; done < len; done += n) {
		n = len - done < sizeof(expect) ? len - done : sizeof(expect);
		pattern_fill(expect, n, seed, off + done);
		if (!memcmp(expect, buf + done, n))
			continue;
		for (i = 0; expect[i] == buf[done + i]; i++)
			;
		*want = expect[i];
		return done + i;
	}
	return -1;
}

/*
 * One direction of a transfer, as seen by its writer or its reader.  The
 * writer sends @len bytes of stream @seed in calls of random sizes up to
 * @max_chunk (one call for all when @one_call), rotating through write,
 * send, sendmsg and writev, then shuts its sending side down.  The reader
 * reads with read, recv, recvmsg and readv until EOF (or @len bytes when
 * !@until_eof) and checks every byte.  With @sha256 each takes the
 * SHA-256 of what it moved: the writer of the bytes the kernel accepted,
 * the reader of every byte it read (past @len too).
 */
struct stream {
	int fd;
	bool reader;
	size_t len;
	__u64 seed;
	size_t max_chunk;
	bool one_call;
	bool until_eof;
	bool no_shutdown;
	bool sha256;
	/* results */
	size_t done;		/* bytes written, or read */
	unsigned int calls;
	int err;		/* errno of a failed call, or 0 */
	const char *failed;	/* that call, or NULL */
	long long bad_at;	/* reader: first wrong byte, or -1 */
	__u8 got, want;
	bool eof;		/* reader: read returned 0 */
	long ms;
	struct sha256 hash;	/* with @sha256 */
};

static const char * const write_calls[] = { "write", "send", "sendmsg", "writev" };
static const char * const read_calls[] = { "read", "recv", "recvmsg", "readv" };

static inline ssize_t write_by(int fd, const __u8 *buf, size_t n,
			       unsigned int how)
{
	struct iovec iov[3];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t a = n / 2, b = n / 4;

	switch (how) {
	case 0:
		return write(fd, buf, n);
	case 1:
		return send(fd, buf, n, MSG_NOSIGNAL);
	case 2:
		iov[0] = (struct iovec){ (void *)buf, a };
		iov[1] = (struct iovec){ (void *)(buf + a), n - a };
		return sendmsg(fd, &msg, MSG_NOSIGNAL);
	default:
		a = n / 3;
		iov[0] = (struct iovec){ (void *)buf, a };
		iov[1] = (struct iovec){ (void *)(buf + a), b };
		iov[2] = (struct iovec){ (void *)(buf + a + b), n - a - b };
		return writev(fd, iov, 3);
	}
}

static inline ssize_t read_by(int fd, __u8 *buf, size_t n,
			      unsigned int how)
{
	struct iovec iov[3];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t a = n / 2, b = n / 4;

	switch (how) {
	case 0:
		return read(fd, buf, n);
	case 1:
		return recv(fd, buf, n, 0);
	case 2:
		iov[0] = (struct iovec){ buf, a };
		iov[1] = (struct iovec){ buf + a, n - a };
		return recvmsg(fd, &msg, 0);
	default:
		a = n / 3;
		iov[0] = (struct iovec){ buf, a };
		iov[1] = (struct iovec){ buf + a, b };
		iov[2] = (struct iovec){ buf + a + b, n - a - b };
		return readv(fd, iov, 3);
	}
}

static inline size_t chunk_size(const struct stream *s, __u64 *rng,
				size_t left)
{
	size_t n;

	if (s->one_call)
		return left;
	*rng = splitmix64(*rng);
	n = 1 + *rng % s->max_chunk;
	return n < left ? n : left;
}

static inline void *writer_main(void *arg)
{
	struct stream *s = arg;
	size_t bufsize = s->one_call ? s->len : s->max_chunk;
	__u64 rng = s->seed ^ 0x77;
	long start = now_ms();
	__u8 *buf;

	buf = malloc(bufsize ?: 1);
	if (!buf) {
		s->err = ENOMEM;
		s->failed = "malloc";
		return NULL;
	}
	if (s->sha256)
		sha256_begin(&s->hash);
	while (s->done < s->len) {
		size_t n = chunk_size(s, &rng, s->len - s->done);
		unsigned int how = s->calls++ % 4;
		ssize_t ret;

		pattern_fill(buf, n, s->seed, s->done);
		ret = write_by(s->fd, buf, n, how);
		if (ret <= 0) {
			s->err = ret ? errno : 0;
			s->failed = write_calls[how];
			break;
		}
		sha256_add(&s->hash, buf, ret);
		s->done += ret;
	}
	sha256_end(&s->hash);
	if (!s->failed && !s->no_shutdown && shutdown(s->fd, SHUT_WR)) {
		s->err = errno;
		s->failed = "shutdown";
	}
	s->ms = now_ms() - start;
	free(buf);
	return NULL;
}

static inline void *reader_main(void *arg)
{
	struct stream *s = arg;
	__u64 rng = s->seed ^ 0x99;
	long start = now_ms();
	__u8 *buf;

	s->bad_at = -1;
	buf = malloc(s->max_chunk);
	if (!buf) {
		s->err = ENOMEM;
		s->failed = "malloc";
		return NULL;
	}
	if (s->sha256)
		sha256_begin(&s->hash);
	while (s->until_eof || s->done < s->len) {
		size_t left = s->done < s->len ? s->len - s->done : 1;
		size_t n = chunk_size(s, &rng, s->until_eof ? s->max_chunk : left);
		unsigned int how = s->calls++ % 4;
		size_t check;
		ssize_t ret;

		ret = read_by(s->fd, buf, n, how);
		if (ret < 0) {
			s->err = errno;
			s->failed = read_calls[how];
			break;
		}
		if (ret == 0) {
			s->eof = true;
			break;
		}
		/* Only bytes within the stream can be checked. */
		check = s->done >= s->len ? 0 : s->len - s->done;
		if (check > (size_t)ret)
			check = ret;
		if (s->bad_at < 0 && check) {
			long i = pattern_check(buf, check, s->seed, s->done,
					       &s->want);

			if (i >= 0) {
				s->bad_at = s->done + i;
				s->got = buf[i];
			}
		}
		sha256_add(&s->hash, buf, ret);
		s->done += ret;
	}
	sha256_end(&s->hash);
	s->ms = now_ms() - start;
	free(buf);
	return NULL;
}

static inline void run_streams(struct __test_metadata *_metadata,
			       struct stream *s, unsigned int n)
{
	pthread_t th[4];
	unsigned int i;

	ASSERT_GE(4U, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, pthread_create(&th[i], NULL,
					    s[i].reader ? reader_main : writer_main,
					    &s[i]));
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/*
 * Prints the SHA-256 that writer @w took of what it sent and the one
 * reader @r took of what it received; true if they are the same.
 */
static inline bool check_digests(struct __test_metadata *_metadata,
				 const char *dir, const struct stream *w,
				 const struct stream *r)
{
	char whex[2 * SHA256_LEN + 1], rhex[2 * SHA256_LEN + 1];

	fprintf(stderr, "# %s: SHA-256 sent     %s (%zu bytes)\n", dir,
		sha256_hex(w->hash.digest, whex), w->done);
	fprintf(stderr, "# %s: SHA-256 received %s (%zu bytes)\n", dir,
		sha256_hex(r->hash.digest, rhex), r->done);
	if (w->hash.err || r->hash.err) {
		TH_LOG("%s: OpenSSL failed to hash the %s", dir,
		       w->hash.err ? "data sent" : "data received");
		return false;
	}
	if (memcmp(w->hash.digest, r->hash.digest, SHA256_LEN)) {
		TH_LOG("%s: the SHA-256 of the data received differs from the data sent's",
		       dir);
		return false;
	}
	return true;
}

/* Checks that what @w wrote is exactly what @r read; true if so. */
static inline bool check_delivered(struct __test_metadata *_metadata,
				   const char *dir, const struct stream *w,
				   const struct stream *r)
{
	bool ok = true;

	if (w->failed) {
		TH_LOG("%s: writer: %s failed with %s after %zu of %zu bytes",
		       dir, w->failed, errname(w->err), w->done, w->len);
		ok = false;
	}
	if (r->failed) {
		TH_LOG("%s: reader: %s failed with %s after %zu of %zu bytes",
		       dir, r->failed, errname(r->err), r->done, r->len);
		ok = false;
	}
	if (r->bad_at >= 0) {
		TH_LOG("%s: first wrong byte at offset %lld: %#04x, want %#04x",
		       dir, r->bad_at, r->got, r->want);
		ok = false;
	}
	if (r->done != w->len) {
		TH_LOG("%s: %zu bytes read, %zu sent", dir, r->done, w->len);
		ok = false;
	}
	if (r->until_eof && !r->eof) {
		TH_LOG("%s: no EOF after the data", dir);
		ok = false;
	}
	if (w->sha256 && r->sha256 && !check_digests(_metadata, dir, w, r))
		ok = false;
	if (!ok)
		_metadata->passed = 0;
	return ok;
}

/*
 * Streams @ab bytes from @a to @b and @ba bytes from @b to @a at the same
 * time, in calls of up to @chunk bytes, each direction ending with
 * shutdown(SHUT_WR); checks every byte and the EOF after them, and with
 * @sha256 also that each direction's two SHA-256 digests match.
 */
static inline void __transfer(struct __test_metadata *_metadata,
			      CLUSTER *self, int a, int b,
			      size_t ab, size_t ba, size_t chunk, bool sha256)
{
	struct stream s[4] = {
		{ .fd = a, .len = ab, .seed = 1 },
		{ .fd = b, .len = ab, .seed = 1, .reader = true },
		{ .fd = b, .len = ba, .seed = 2 },
		{ .fd = a, .len = ba, .seed = 2, .reader = true },
	};
	bool ok;
	int i;

	for (i = 0; i < 4; i++) {
		s[i].max_chunk = chunk;
		s[i].until_eof = true;
		s[i].sha256 = sha256;
	}
	ASSERT_EQ(0, set_timeouts(a, XFER_GUARD_SEC));
	ASSERT_EQ(0, set_timeouts(b, XFER_GUARD_SEC));
	run_streams(_metadata, s, 4);
	ok = check_delivered(_metadata, "1->2", &s[0], &s[1]);
	ok &= check_delivered(_metadata, "2->1", &s[2], &s[3]);
	fprintf(stderr, "# 1->2: %zu bytes in %ld ms, 2->1: %zu bytes in %ld ms\n",
		s[1].done, s[1].ms, s[3].done, s[3].ms);
	if (!ok)
		dump_nodes(self);
}

#define TRANSFER(a, b, ab, ba, chunk) \
	__transfer(_metadata, self, a, b, ab, ba, chunk, false)
/* The same, and each direction's SHA-256 compared end to end. */
#define TRANSFER_SHA256(a, b, ab, ba, chunk) \
	__transfer(_metadata, self, a, b, ab, ba, chunk, true)

/* Reads exactly @len bytes of stream @seed from @fd (no EOF expected). */
static inline void expect_stream(struct __test_metadata *_metadata, int fd,
				 size_t len, __u64 seed)
{
	struct stream w = { .len = len };
	struct stream r = {
		.fd = fd, .reader = true, .len = len, .seed = seed,
		.max_chunk = 64 * KiB,
	};

	reader_main(&r);
	check_delivered(_metadata, "stream", &w, &r);
}

/* Sends @len bytes of stream @seed from @fd in one blocking send. */
static inline void send_stream(struct __test_metadata *_metadata, int fd,
			       size_t len, __u64 seed)
{
	__u8 *buf = malloc(len);

	ASSERT_NE(NULL, buf);
	pattern_fill(buf, len, seed, 0);
	EXPECT_EQ((ssize_t)len, send(fd, buf, len, MSG_NOSIGNAL))
		TH_LOG("send %zu bytes: %s", len, strerror(errno));
	free(buf);
}

#endif /* MIGTCP_STREAM_H */
