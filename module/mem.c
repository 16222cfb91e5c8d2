// SPDX-License-Identifier: GPL-2.0
/*
 * Socket memory.  migtcp's buffers are charged to the kernel's socket
 * memory accounting through struct proto (memory_allocated, limits in
 * pages, memory pressure), as TCP's are through tcp_mem, and sized like
 * TCP's: the module parameters mem, rmem and wmem mean what the sysctls
 * net.ipv4.tcp_mem, tcp_rmem and tcp_wmem mean.  Buffers the user did not
 * size grow with the connection (autotuning): the receive buffer to twice
 * what the reader took per round trip, as tcp_rcv_space_adjust(), the send
 * buffer to twice the congestion window, as tcp_sndbuf_expand().
 */
#include <linux/moduleparam.h>
#include <linux/percpu_counter.h>
#include <linux/swap.h>
#include <net/sock.h>

#include "migtcp.h"

long migtcp_mem[3];
module_param_array_named(mem, migtcp_mem, long, NULL, 0644);
MODULE_PARM_DESC(mem,
		 "pages all migtcp sockets may use: no limit below the first, pressure above the second, the third is the hard limit (default from RAM, as tcp_mem)");

int migtcp_rmem[3] = { 4096, 131072, 6 * 1024 * 1024 };
module_param_array_named(rmem, migtcp_rmem, int, NULL, 0644);
MODULE_PARM_DESC(rmem,
		 "receive buffer: minimum under pressure, initial, autotuning maximum (bytes, as tcp_rmem)");

int migtcp_wmem[3] = { 4096, 16384, 4 * 1024 * 1024 };
module_param_array_named(wmem, migtcp_wmem, int, NULL, 0644);
MODULE_PARM_DESC(wmem,
		 "send buffer: minimum under pressure, initial, autotuning maximum (bytes, as tcp_wmem)");

atomic_long_t migtcp_memory_allocated;
DEFINE_PER_CPU(int, migtcp_memory_per_cpu_fw_alloc);
struct percpu_counter migtcp_sockets_allocated;
unsigned long migtcp_memory_pressure;

void migtcp_enter_memory_pressure(struct sock *sk)
{
	WRITE_ONCE(migtcp_memory_pressure, 1);
}

void migtcp_leave_memory_pressure(struct sock *sk)
{
	WRITE_ONCE(migtcp_memory_pressure, 0);
}

/*
 * Charges @size bytes of @skb's send queue to @sk even beyond the limits,
 * for what must not fail (splitting a queued skb); forward allocation that
 * went negative is made up by the next uncharge.
 */
void migtcp_wmem_charge_forced(struct sock *sk, int size)
{
	sk_wmem_schedule(sk, size);
	sk_wmem_queued_add(sk, size);
	sk_mem_charge(sk, size);
}

/*
 * Autotuning of the receive buffer: once per round trip, the reader took
 * @copied bytes; the buffer must hold twice that in data, and data comes
 * with twice its size in buffers (the window offered is half the free
 * space), so 4 * copied, capped at rmem[2].
 */
void migtcp_rcvbuf_adjust(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 rtt = max_t(u32, msk->rcv_rtt, 1);
	u32 copied;
	u64 want;

	if (!msk->rcvq_time) {
		msk->rcvq_time = jiffies;
		msk->rcvq_seq = msk->copied_seq;
		return;
	}
	if (time_before(jiffies, msk->rcvq_time + rtt))
		return;
	copied = msk->copied_seq - msk->rcvq_seq;
	msk->rcvq_time = jiffies;
	msk->rcvq_seq = msk->copied_seq;
	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK)
		return;
	want = min_t(u64, 4ULL * copied, READ_ONCE(migtcp_rmem[2]));
	if (want > READ_ONCE(sk->sk_rcvbuf))
		WRITE_ONCE(sk->sk_rcvbuf, want);
}

/*
 * The receiver's round trip estimate, as tcp_rcv_rtt_measure(): the time
 * a window's worth of data takes to arrive.  Called with rcv_nxt moved.
 */
void migtcp_rcv_rtt_measure(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 sample;

	if (!msk->rcv_rtt_time) {
		msk->rcv_rtt_time = jiffies;
		msk->rcv_rtt_seq = msk->rcv_nxt + max(msk->rcv_wnd, msk->mss);
		return;
	}
	if (migtcp_before(msk->rcv_nxt, msk->rcv_rtt_seq))
		return;
	sample = max_t(u32, jiffies - msk->rcv_rtt_time, 1);
	/* A rough estimate: the smallest recent sample, slowly forgotten. */
	if (!msk->rcv_rtt || sample < msk->rcv_rtt)
		msk->rcv_rtt = sample;
	else
		msk->rcv_rtt += (sample - msk->rcv_rtt) >> 3;
	msk->rcv_rtt_time = 0;
}

/*
 * Autotuning of the send buffer: room for twice the congestion window
 * (and never less than for the initial window), counted in the buffer
 * space a segment takes, capped at wmem[2].
 */
void migtcp_sndbuf_expand(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 per_mss = roundup_pow_of_two(SKB_TRUESIZE(msk->mss +
						      MIGTCP_MAX_HEADER));
	u64 want;

	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		return;
	want = 2ULL * max_t(u32, msk->cwnd, MIGTCP_INIT_CWND) * per_mss;
	want = min_t(u64, want, READ_ONCE(migtcp_wmem[2]));
	if (want > READ_ONCE(sk->sk_sndbuf)) {
		WRITE_ONCE(sk->sk_sndbuf, want);
		sk->sk_write_space(sk);
	}
}

int migtcp_mem_init(void)
{
	unsigned long limit = max(nr_free_buffer_pages() / 16, 128UL);

	if (!migtcp_mem[0] && !migtcp_mem[1] && !migtcp_mem[2]) {
		migtcp_mem[0] = limit / 4 * 3;
		migtcp_mem[1] = limit;
		migtcp_mem[2] = migtcp_mem[0] * 2;
	}
	return percpu_counter_init(&migtcp_sockets_allocated, 0, GFP_KERNEL);
}

void migtcp_mem_exit(void)
{
	percpu_counter_destroy(&migtcp_sockets_allocated);
}
