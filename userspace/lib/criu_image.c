// SPDX-License-Identifier: GPL-2.0
/*
 * The CRIU plugin's image files (criu_image.h): building their header
 * and attributes at dump, reading and validating them at restore and in
 * "migtcpctl image show".  Attributes are walked with libmnl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "criu_image.h"

static int fail(char *err, size_t err_len, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	errno = errnum;
	return -1;
}

static const char *const img_attr_names[] = {
	[MIGTCP_IMG_A_FAMILY]		= "family",
	[MIGTCP_IMG_A_FILE_FLAGS]	= "file flags",
	[MIGTCP_IMG_A_RCVTIMEO_US]	= "SO_RCVTIMEO",
	[MIGTCP_IMG_A_SNDTIMEO_US]	= "SO_SNDTIMEO",
	[MIGTCP_IMG_A_RCVLOWAT]		= "SO_RCVLOWAT",
	[MIGTCP_IMG_A_PRIORITY]		= "SO_PRIORITY",
	[MIGTCP_IMG_A_MARK]		= "SO_MARK",
	[MIGTCP_IMG_A_LINGER_S]		= "SO_LINGER",
	[MIGTCP_IMG_A_REUSEADDR]	= "SO_REUSEADDR",
};

static const enum mnl_attr_data_type img_attr_types[] = {
	[MIGTCP_IMG_A_FAMILY]		= MNL_TYPE_U32,
	[MIGTCP_IMG_A_FILE_FLAGS]	= MNL_TYPE_U32,
	[MIGTCP_IMG_A_RCVTIMEO_US]	= MNL_TYPE_U64,
	[MIGTCP_IMG_A_SNDTIMEO_US]	= MNL_TYPE_U64,
	[MIGTCP_IMG_A_RCVLOWAT]		= MNL_TYPE_U32,
	[MIGTCP_IMG_A_PRIORITY]		= MNL_TYPE_U32,
	[MIGTCP_IMG_A_MARK]		= MNL_TYPE_U32,
	[MIGTCP_IMG_A_LINGER_S]		= MNL_TYPE_U32,
	[MIGTCP_IMG_A_REUSEADDR]	= MNL_TYPE_U8,
};

struct img_parse {
	const struct nlattr *tb[MIGTCP_IMG_A_MAX + 1];
	const char *base;
	size_t end;		/* offset after the last attribute walked */
	char *err;
	size_t err_len;
};

static int img_attr_cb(const struct nlattr *attr, void *data)
{
	struct img_parse *p = data;
	uint16_t type = mnl_attr_get_type(attr);

	p->end = (const char *)attr - p->base + MNL_ALIGN(attr->nla_len);
	if (type == MIGTCP_IMG_A_UNSPEC || type > MIGTCP_IMG_A_MAX) {
		fail(p->err, p->err_len, EINVAL,
		     "unknown attribute type %u (this reader knows 1..%d)",
		     type, MIGTCP_IMG_A_MAX);
		return MNL_CB_ERROR;
	}
	if (p->tb[type]) {
		fail(p->err, p->err_len, EINVAL,
		     "attribute %s appears more than once",
		     img_attr_names[type]);
		return MNL_CB_ERROR;
	}
	if (mnl_attr_validate(attr, img_attr_types[type]) < 0) {
		fail(p->err, p->err_len, EINVAL,
		     "attribute %s has %u bytes, the wrong size",
		     img_attr_names[type], mnl_attr_get_payload_len(attr));
		return MNL_CB_ERROR;
	}
	p->tb[type] = attr;
	return MNL_CB_OK;
}

static int img_parse_attrs(const void *attrs, size_t len,
			   struct migtcp_img_opts *opts, char *err,
			   size_t err_len)
{
	struct img_parse p = {
		.base = attrs, .err = err, .err_len = err_len,
	};
	const struct nlattr *const *tb = p.tb;

	if (len && mnl_attr_parse_payload(attrs, len, img_attr_cb, &p) < 0)
		return -1;
	/* libmnl stops quietly at anything that is not an attribute. */
	if (p.end != len)
		return fail(err, err_len, EINVAL,
			    "%zu bytes of the attribute area are not attributes",
			    len - p.end);
	if (!tb[MIGTCP_IMG_A_FAMILY] || !tb[MIGTCP_IMG_A_FILE_FLAGS])
		return fail(err, err_len, EINVAL,
			    "the attribute %s is missing",
			    tb[MIGTCP_IMG_A_FAMILY] ? "file flags" : "family");

	memset(opts, 0, sizeof(*opts));
	opts->family = mnl_attr_get_u32(tb[MIGTCP_IMG_A_FAMILY]);
	opts->file_flags = mnl_attr_get_u32(tb[MIGTCP_IMG_A_FILE_FLAGS]);
	if (tb[MIGTCP_IMG_A_RCVTIMEO_US])
		opts->rcvtimeo_us = mnl_attr_get_u64(tb[MIGTCP_IMG_A_RCVTIMEO_US]);
	if (tb[MIGTCP_IMG_A_SNDTIMEO_US])
		opts->sndtimeo_us = mnl_attr_get_u64(tb[MIGTCP_IMG_A_SNDTIMEO_US]);
	if (tb[MIGTCP_IMG_A_RCVLOWAT])
		opts->rcvlowat = mnl_attr_get_u32(tb[MIGTCP_IMG_A_RCVLOWAT]);
	if (tb[MIGTCP_IMG_A_PRIORITY])
		opts->priority = mnl_attr_get_u32(tb[MIGTCP_IMG_A_PRIORITY]);
	if (tb[MIGTCP_IMG_A_MARK])
		opts->mark = mnl_attr_get_u32(tb[MIGTCP_IMG_A_MARK]);
	if (tb[MIGTCP_IMG_A_LINGER_S]) {
		opts->linger = true;
		opts->linger_s = mnl_attr_get_u32(tb[MIGTCP_IMG_A_LINGER_S]);
	}
	if (tb[MIGTCP_IMG_A_REUSEADDR])
		opts->reuseaddr = mnl_attr_get_u8(tb[MIGTCP_IMG_A_REUSEADDR]);
	return 0;
}

int migtcp_ckpt_check_hdr(const void *ckpt, size_t len, char *err,
			  size_t err_len)
{
	struct migtcp_ckpt_hdr hdr;

	if (len < sizeof(hdr))
		return fail(err, err_len, EINVAL,
			    "the checkpoint has %zu bytes, less than its %zu-byte header",
			    len, sizeof(hdr));
	memcpy(&hdr, ckpt, sizeof(hdr));
	if (hdr.magic != MIGTCP_CKPT_MAGIC)
		return fail(err, err_len, EINVAL,
			    "the checkpoint's magic is 0x%08x, not 0x%08x",
			    hdr.magic, MIGTCP_CKPT_MAGIC);
	if (hdr.version != MIGTCP_CKPT_VERSION)
		return fail(err, err_len, EINVAL,
			    "the checkpoint has format version %u; this program reads version %d",
			    hdr.version, MIGTCP_CKPT_VERSION);
	if (hdr.hdr_len != sizeof(hdr))
		return fail(err, err_len, EINVAL,
			    "the checkpoint's header length is %u, not %zu",
			    hdr.hdr_len, sizeof(hdr));
	if (hdr.total_len != len)
		return fail(err, err_len, EINVAL,
			    "the checkpoint says it has %u bytes but has %zu",
			    hdr.total_len, len);
	if (hdr.nr_recs < 1 || hdr.nr_recs > MIGTCP_CKPT_MAX_RECS)
		return fail(err, err_len, EINVAL,
			    "the checkpoint has %u records, not 1..%d",
			    hdr.nr_recs, MIGTCP_CKPT_MAX_RECS);
	return 0;
}

static int img_read_file(int dirfd, const char *name, struct migtcp_img *img,
			 char *err, size_t err_len)
{
	struct stat st;
	size_t done = 0;
	ssize_t n;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail(err, err_len, errno, "cannot open: %s",
			    strerror(errno));
	if (fstat(fd, &st)) {
		int errnum = errno;

		close(fd);
		return fail(err, err_len, errnum, "cannot stat: %s",
			    strerror(errnum));
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MIGTCP_IMG_MAX_SIZE) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			return fail(err, err_len, EINVAL, "not a regular file");
		return fail(err, err_len, EFBIG,
			    "%lld bytes, larger than any image (%u)",
			    (long long)st.st_size, MIGTCP_IMG_MAX_SIZE);
	}
	img->len = st.st_size;
	img->buf = malloc(img->len ? img->len : 1);
	if (!img->buf) {
		close(fd);
		return fail(err, err_len, ENOMEM, "out of memory");
	}
	while (done < img->len) {
		n = read(fd, (char *)img->buf + done, img->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int errnum = n ? errno : EIO;

			close(fd);
			return fail(err, err_len, errnum, "cannot read: %s",
				    n ? strerror(errnum) : "file shrank");
		}
		done += n;
	}
	close(fd);
	return 0;
}

int migtcp_img_read(int dirfd, const char *name, struct migtcp_img *img,
		    char *err, size_t err_len)
{
	struct migtcp_img_hdr hdr;
	size_t want;

	memset(img, 0, sizeof(*img));
	if (img_read_file(dirfd, name, img, err, err_len))
		goto out_free;
	if (img->len < sizeof(hdr)) {
		fail(err, err_len, EINVAL,
		     "%zu bytes, shorter than the %zu-byte image header",
		     img->len, sizeof(hdr));
		goto out_free;
	}
	memcpy(&hdr, img->buf, sizeof(hdr));
	if (hdr.magic != MIGTCP_IMG_MAGIC) {
		fail(err, err_len, EINVAL,
		     "the magic is 0x%08x, not 0x%08x: not a migtcp socket image",
		     hdr.magic, MIGTCP_IMG_MAGIC);
		goto out_free;
	}
	if (hdr.version != MIGTCP_IMG_VERSION) {
		fail(err, err_len, EINVAL,
		     "image format version %u; this program reads version %d",
		     hdr.version, MIGTCP_IMG_VERSION);
		goto out_free;
	}
	if (hdr.hdr_len != sizeof(hdr) || hdr.attrs_len % 4) {
		fail(err, err_len, EINVAL,
		     "the header length (%u) or the attribute length (%u) is wrong",
		     hdr.hdr_len, hdr.attrs_len);
		goto out_free;
	}
	want = (size_t)hdr.hdr_len + hdr.attrs_len + hdr.ckpt_len;
	if (want != img->len) {
		fail(err, err_len, EINVAL,
		     "the header says %zu bytes (header %u, attributes %u, checkpoint %u) but the file has %zu",
		     want, hdr.hdr_len, hdr.attrs_len, hdr.ckpt_len, img->len);
		goto out_free;
	}
	if (img_parse_attrs((char *)img->buf + hdr.hdr_len, hdr.attrs_len,
			    &img->opts, err, err_len))
		goto out_free;
	img->ckpt = (char *)img->buf + hdr.hdr_len + hdr.attrs_len;
	img->ckpt_len = hdr.ckpt_len;
	if (migtcp_ckpt_check_hdr(img->ckpt, img->ckpt_len, err, err_len))
		goto out_free;
	return 0;

out_free:
	{
		int errnum = errno;

		migtcp_img_free(img);
		errno = errnum;
	}
	return -1;
}

void migtcp_img_free(struct migtcp_img *img)
{
	free(img->buf);
	memset(img, 0, sizeof(*img));
}

size_t migtcp_img_build_prefix(void *buf, const struct migtcp_img_opts *opts,
			       uint32_t ckpt_len)
{
	/* libmnl builds attributes after a netlink header: borrow one. */
	char msg[MNL_NLMSG_HDRLEN + MIGTCP_IMG_PREFIX_MAX]
		__attribute__((aligned(4)));
	struct migtcp_img_hdr hdr = {
		.magic = MIGTCP_IMG_MAGIC,
		.version = MIGTCP_IMG_VERSION,
		.hdr_len = sizeof(hdr),
		.ckpt_len = ckpt_len,
	};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msg);

	mnl_attr_put_u32(nlh, MIGTCP_IMG_A_FAMILY, opts->family);
	mnl_attr_put_u32(nlh, MIGTCP_IMG_A_FILE_FLAGS, opts->file_flags);
	mnl_attr_put_u64(nlh, MIGTCP_IMG_A_RCVTIMEO_US, opts->rcvtimeo_us);
	mnl_attr_put_u64(nlh, MIGTCP_IMG_A_SNDTIMEO_US, opts->sndtimeo_us);
	mnl_attr_put_u32(nlh, MIGTCP_IMG_A_RCVLOWAT, opts->rcvlowat);
	mnl_attr_put_u32(nlh, MIGTCP_IMG_A_PRIORITY, opts->priority);
	mnl_attr_put_u32(nlh, MIGTCP_IMG_A_MARK, opts->mark);
	if (opts->linger)
		mnl_attr_put_u32(nlh, MIGTCP_IMG_A_LINGER_S, opts->linger_s);
	mnl_attr_put_u8(nlh, MIGTCP_IMG_A_REUSEADDR, opts->reuseaddr);

	hdr.attrs_len = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy((char *)buf + sizeof(hdr), mnl_nlmsg_get_payload(nlh),
	       hdr.attrs_len);
	return sizeof(hdr) + hdr.attrs_len;
}

bool migtcp_img_name_id(const char *name, uint32_t *id)
{
	size_t plen = strlen(MIGTCP_IMG_PREFIX), slen = strlen(MIGTCP_IMG_SUFFIX);
	const char *digits = name + plen;
	unsigned long long v = 0;
	size_t len = strlen(name), i, ndigits;

	if (len <= plen + slen || strncmp(name, MIGTCP_IMG_PREFIX, plen) ||
	    strcmp(name + len - slen, MIGTCP_IMG_SUFFIX))
		return false;
	ndigits = len - plen - slen;
	if (ndigits > 10 || (ndigits > 1 && digits[0] == '0'))
		return false;
	for (i = 0; i < ndigits; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return false;
		v = v * 10 + (digits[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*id = v;
	return true;
}
