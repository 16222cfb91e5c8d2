/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The image file the CRIU plugin writes for each AF_MIGTCP socket it
 * dumps, "migtcp-sk-<id>.img" in CRIU's image directory (<id> is CRIU's
 * file id, in decimal):
 *
 *   struct migtcp_img_hdr
 *   attributes      attrs_len bytes of netlink attributes
 *                   (enum migtcp_img_attr): what belongs to the open
 *                   file and to SOL_SOCKET rather than to the kernel's
 *                   checkpoint
 *   the checkpoint  ckpt_len bytes, exactly what MIGTCP_CHECKPOINT
 *                   returned (struct migtcp_ckpt_hdr and its records)
 *
 * Integers are in host byte order, as in the checkpoint.  The plugin
 * (restore) and "migtcpctl image show" read it with the functions below;
 * docs/criu.md describes it.
 */
#ifndef MIGTCP_CRIU_IMAGE_H
#define MIGTCP_CRIU_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/migtcp.h>

#define MIGTCP_IMG_MAGIC	0x4d474349	/* "MGCI" */
#define MIGTCP_IMG_VERSION	1
#define MIGTCP_IMG_PREFIX	"migtcp-sk-"
#define MIGTCP_IMG_SUFFIX	".img"
/* Far above any checkpoint: the socket buffers are limited by sysctls. */
#define MIGTCP_IMG_MAX_SIZE	(1U << 30)

struct migtcp_img_hdr {
	uint32_t magic;		/* MIGTCP_IMG_MAGIC */
	uint16_t version;	/* MIGTCP_IMG_VERSION */
	uint16_t hdr_len;	/* sizeof(struct migtcp_img_hdr) */
	uint32_t attrs_len;	/* a multiple of 4 */
	uint32_t ckpt_len;	/* the checkpoint's total_len */
};

enum migtcp_img_attr {
	MIGTCP_IMG_A_UNSPEC,
	MIGTCP_IMG_A_FAMILY,		/* u32: AF_MIGTCP's number at dump */
	MIGTCP_IMG_A_FILE_FLAGS,	/* u32: fcntl(F_GETFL) */
	MIGTCP_IMG_A_RCVTIMEO_US,	/* u64: SO_RCVTIMEO, 0 = none */
	MIGTCP_IMG_A_SNDTIMEO_US,	/* u64: SO_SNDTIMEO */
	MIGTCP_IMG_A_RCVLOWAT,		/* u32: SO_RCVLOWAT */
	MIGTCP_IMG_A_PRIORITY,		/* u32: SO_PRIORITY */
	MIGTCP_IMG_A_MARK,		/* u32: SO_MARK */
	MIGTCP_IMG_A_LINGER_S,		/* u32: SO_LINGER seconds; absent if off */
	MIGTCP_IMG_A_REUSEADDR,		/* u8: SO_REUSEADDR */
	__MIGTCP_IMG_A_MAX
};

#define MIGTCP_IMG_A_MAX (__MIGTCP_IMG_A_MAX - 1)

/* The attributes of an image, decoded. */
struct migtcp_img_opts {
	uint32_t family;
	uint32_t file_flags;
	uint64_t rcvtimeo_us, sndtimeo_us;
	uint32_t rcvlowat, priority, mark;
	bool linger;
	uint32_t linger_s;
	uint8_t reuseaddr;
};

/* An image in memory: the whole file and where its parts are. */
struct migtcp_img {
	void *buf;		/* the file, malloc()ed */
	size_t len;
	struct migtcp_img_opts opts;
	const void *ckpt;	/* inside buf */
	uint32_t ckpt_len;
};

/*
 * Reads image NAME in directory DIRFD and validates its header, its
 * attributes (each known, of the right size, present once; FAMILY and
 * FILE_FLAGS required) and the header of the checkpoint it holds (magic,
 * version, hdr_len, total_len equal to ckpt_len).  Returns 0, or -1
 * with a message saying what is wrong in ERR (ERR_LEN bytes) and errno
 * set.
 */
int migtcp_img_read(int dirfd, const char *name, struct migtcp_img *img,
		    char *err, size_t err_len);
void migtcp_img_free(struct migtcp_img *img);

/*
 * Builds the header and attributes of an image for OPTS and a
 * checkpoint of CKPT_LEN bytes into BUF (at least MIGTCP_IMG_PREFIX_MAX
 * bytes); returns their length.  The checkpoint follows them.
 */
#define MIGTCP_IMG_PREFIX_MAX	256
size_t migtcp_img_build_prefix(void *buf, const struct migtcp_img_opts *opts,
			       uint32_t ckpt_len);

/*
 * Checks the header of a checkpoint of LEN bytes as MIGTCP_CHECKPOINT
 * returns it.  Returns 0, or -1 with what is wrong in ERR.
 */
int migtcp_ckpt_check_hdr(const void *ckpt, size_t len, char *err,
			  size_t err_len);

/*
 * The CRIU file id of an image file name "migtcp-sk-<id>.img"; false if
 * NAME is not one.
 */
bool migtcp_img_name_id(const char *name, uint32_t *id);

#endif /* MIGTCP_CRIU_IMAGE_H */
