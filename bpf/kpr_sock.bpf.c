// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Socket LB (lib/sock.h): the cgroup hooks lb-mode --socket-lb attaches to
 * one cgroup2 directory. Each entry point copies the socket's address in
 * and out of its context; a refusal is the hook's errno (bpf_set_retval),
 * not the EPERM a plain 0 would give.
 */
#include "lib/sock.h"

/*
 * An IPv6 socket's ::ffff:a.b.c.d is IPv4 on the wire (a dual-stack socket,
 * as Java and Go open them): it is looked up, balanced and shown again as
 * the IPv4 address it is, and written back in the mapped form.
 */
static __always_inline bool kpr_v4_mapped(const __u32 *w)
{
	return !w[0] && !w[1] && w[2] == bpf_htonl(0xffff);
}

/* The socket's address; *v6 false after when it is IPv4-mapped. */
static __always_inline void sa_get(const struct bpf_sock_addr *ctx, bool *v6,
				   struct kpr_l4addr *a)
{
	__builtin_memset(a, 0, sizeof(*a));
	if (*v6) {
		a->addr.w[0] = ctx->user_ip6[0];
		a->addr.w[1] = ctx->user_ip6[1];
		a->addr.w[2] = ctx->user_ip6[2];
		a->addr.w[3] = ctx->user_ip6[3];
		if (kpr_v4_mapped(a->addr.w)) {
			a->addr.w[0] = a->addr.w[3];
			a->addr.w[2] = a->addr.w[3] = 0;
			*v6 = false;
		}
	} else {
		a->addr.v4 = ctx->user_ip4;
	}
	a->port = (__be16)ctx->user_port;
	a->proto = (__u8)ctx->protocol;
	a->family = *v6 ? KPR_FAM_V6 : KPR_FAM_V4;
}

/* mapped: the socket is IPv6 and its address IPv4-mapped. */
static __always_inline void sa_set(struct bpf_sock_addr *ctx, bool v6, bool mapped,
				   const struct kpr_l4addr *a)
{
	if (mapped) {
		ctx->user_ip6[3] = a->addr.v4;
	} else if (v6) {
		ctx->user_ip6[0] = a->addr.w[0];
		ctx->user_ip6[1] = a->addr.w[1];
		ctx->user_ip6[2] = a->addr.w[2];
		ctx->user_ip6[3] = a->addr.w[3];
	} else {
		ctx->user_ip4 = a->addr.v4;
	}
	ctx->user_port = a->port;
}

static __always_inline int errno_ret(int err)
{
	if (!err)
		return 1;
	bpf_set_retval(err);
	return 0;
}

static __always_inline int fwd(struct bpf_sock_addr *ctx, bool v6)
{
	struct kpr_l4addr a, old;
	bool fam6 = v6;
	int err;

	sa_get(ctx, &fam6, &a);
	old = a;
	err = kpr_sock_fwd(ctx->sk, bpf_get_socket_cookie(ctx), bpf_get_netns_cookie(ctx), &a);
	if (!err && !kpr_l4addr_eq(&a, &old))
		sa_set(ctx, v6, v6 != fam6, &a);
	return errno_ret(err);
}

static __always_inline int rev(struct bpf_sock_addr *ctx, bool v6)
{
	struct kpr_l4addr a, old;
	bool fam6 = v6;

	sa_get(ctx, &fam6, &a);
	old = a;
	kpr_sock_rev(bpf_get_socket_cookie(ctx), &a);
	if (!kpr_l4addr_eq(&a, &old))
		sa_set(ctx, v6, v6 != fam6, &a);
	return 1;
}

static __always_inline int bind_guard(struct bpf_sock *ctx, bool v6)
{
	struct kpr_l4addr a = {
		.port = bpf_htons((__u16)ctx->src_port),
		.proto = (__u8)ctx->protocol,
		.family = v6 ? KPR_FAM_V6 : KPR_FAM_V4,
	};

	if (v6) {
		a.addr.w[0] = ctx->src_ip6[0];
		a.addr.w[1] = ctx->src_ip6[1];
		a.addr.w[2] = ctx->src_ip6[2];
		a.addr.w[3] = ctx->src_ip6[3];
		if (kpr_v4_mapped(a.addr.w)) {
			a.addr.w[0] = a.addr.w[3];
			a.addr.w[2] = a.addr.w[3] = 0;
			a.family = KPR_FAM_V4;
		}
	} else {
		a.addr.v4 = ctx->src_ip4;
	}
	return errno_ret(kpr_sock_bind_guard(bpf_get_netns_cookie(ctx), &a));
}

SEC("cgroup/connect4")
int kpr_sock_connect4(struct bpf_sock_addr *ctx) { return fwd(ctx, false); }

SEC("cgroup/connect6")
int kpr_sock_connect6(struct bpf_sock_addr *ctx) { return fwd(ctx, true); }

SEC("cgroup/sendmsg4")
int kpr_sock_sendmsg4(struct bpf_sock_addr *ctx) { return fwd(ctx, false); }

SEC("cgroup/sendmsg6")
int kpr_sock_sendmsg6(struct bpf_sock_addr *ctx) { return fwd(ctx, true); }

SEC("cgroup/recvmsg4")
int kpr_sock_recvmsg4(struct bpf_sock_addr *ctx) { return rev(ctx, false); }

SEC("cgroup/recvmsg6")
int kpr_sock_recvmsg6(struct bpf_sock_addr *ctx) { return rev(ctx, true); }

SEC("cgroup/getpeername4")
int kpr_sock_getpeername4(struct bpf_sock_addr *ctx) { return rev(ctx, false); }

SEC("cgroup/getpeername6")
int kpr_sock_getpeername6(struct bpf_sock_addr *ctx) { return rev(ctx, true); }

SEC("cgroup/post_bind4")
int kpr_sock_post_bind4(struct bpf_sock *ctx) { return bind_guard(ctx, false); }

SEC("cgroup/post_bind6")
int kpr_sock_post_bind6(struct bpf_sock *ctx) { return bind_guard(ctx, true); }

SEC("cgroup/sock_release")
int kpr_sock_release_hook(struct bpf_sock *ctx)
{
	kpr_sock_release(ctx, bpf_get_socket_cookie(ctx));
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
