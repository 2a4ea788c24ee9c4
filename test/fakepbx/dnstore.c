/**
 * @file dnstore.c  Fake PBX -- parking DNs and their parked calls
 *
 * Every change here is pushed to the subscriptions (subs_notify).
 *
 * Copyright (C) 2024 parkblf authors
 */
#include <re.h>
#include "fakepbx.h"


static void call_destructor(void *arg)
{
	struct pbx_call *call = arg;

	list_unlink(&call->le);
	mem_deref(call->callid);
	mem_deref(call->number);
	mem_deref(call->name);
}


static void dn_destructor(void *arg)
{
	struct pbx_dn *dn = arg;

	list_unlink(&dn->le);
	list_flush(&dn->calls);
	mem_deref(dn->dn);
}


/**
 * Find a known DN
 *
 * @param pbx Fake PBX
 * @param dn  DN
 *
 * @return The DN or NULL
 */
struct pbx_dn *dnstore_find(const struct pbx *pbx, const struct pl *dn)
{
	struct le *le;

	LIST_FOREACH(&pbx->dnl, le) {
		struct pbx_dn *d = le->data;

		if (!pl_strcmp(dn, d->dn))
			return d;
	}

	return NULL;
}


/**
 * Add a DN (or find it if already known)
 *
 * @param dnp Where to store the DN (not referenced), may be NULL
 * @param pbx Fake PBX
 * @param dn  DN
 *
 * @return 0 if success, otherwise errorcode
 */
int dnstore_add(struct pbx_dn **dnp, struct pbx *pbx, const struct pl *dn)
{
	struct pbx_dn *d;
	int err;

	if (!pbx || !pl_isset(dn))
		return EINVAL;

	d = dnstore_find(pbx, dn);
	if (d)
		goto out;

	d = mem_zalloc(sizeof(*d), dn_destructor);
	if (!d)
		return ENOMEM;

	err = pl_strdup(&d->dn, dn);
	if (err) {
		mem_deref(d);
		return err;
	}

	list_append(&pbx->dnl, &d->le, d);

 out:
	if (dnp)
		*dnp = d;

	return 0;
}


static struct pbx_call *call_find(const struct pbx_dn *dn,
				  const struct pl *callid)
{
	struct le *le;

	LIST_FOREACH(&dn->calls, le) {
		struct pbx_call *call = le->data;

		if (!pl_strcmp(callid, call->callid))
			return call;
	}

	return NULL;
}


/**
 * Park a call on a DN and notify the subscribers
 *
 * @param pbx    Fake PBX
 * @param dn     DN (becomes known if it wasn't)
 * @param callid Call-ID of the parked call
 * @param number Caller number
 * @param name   Caller display name, may be unset
 *
 * @return 0 if success, EALREADY for a duplicate Call-ID
 */
int dnstore_park(struct pbx *pbx, const struct pl *dn,
		 const struct pl *callid, const struct pl *number,
		 const struct pl *name)
{
	const struct pbx_call *callv[1];
	struct pbx_change chg;
	struct pbx_call *call;
	struct pbx_dn *d;
	int err;

	if (!pbx || !pl_isset(dn) || !pl_isset(callid) || !pl_isset(number))
		return EINVAL;

	d = dnstore_find(pbx, dn);
	if (d && call_find(d, callid))
		return EALREADY;

	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call)
		return ENOMEM;

	err  = pl_strdup(&call->callid, callid);
	err |= pl_strdup(&call->number, number);
	if (pl_isset(name))
		err |= pl_strdup(&call->name, name);
	if (err)
		goto out;

	err = dnstore_add(&d, pbx, dn);
	if (err)
		goto out;

	call->parked = tmr_jiffies();
	list_append(&d->calls, &call->le, call);

	callv[0]    = call;
	chg.dn      = d;
	chg.callv   = callv;
	chg.callc   = 1;
	chg.removed = false;

	subs_notify(pbx, &chg, 1);

	return 0;

 out:
	mem_deref(call);

	return err;
}


/**
 * Remove a parked call from a DN and notify the subscribers
 *
 * @param pbx    Fake PBX
 * @param dn     DN
 * @param callid Call-ID, or unset for the oldest call
 *
 * @return 0 if success, ENOENT if there is no such call
 */
int dnstore_retrieve(struct pbx *pbx, const struct pl *dn,
		     const struct pl *callid)
{
	const struct pbx_call *callv[1];
	struct pbx_change chg;
	struct pbx_call *call;
	struct pbx_dn *d;

	if (!pbx || !pl_isset(dn))
		return EINVAL;

	d = dnstore_find(pbx, dn);
	if (!d)
		return ENOENT;

	if (pl_isset(callid))
		call = call_find(d, callid);
	else
		call = list_ledata(list_head(&d->calls));

	if (!call)
		return ENOENT;

	list_unlink(&call->le);

	callv[0]    = call;
	chg.dn      = d;
	chg.callv   = callv;
	chg.callc   = 1;
	chg.removed = true;

	subs_notify(pbx, &chg, 1);

	mem_deref(call);

	return 0;
}


/**
 * Make every DN idle and notify the subscribers of the changed ones
 *
 * @param pbx Fake PBX
 */
void dnstore_clear(struct pbx *pbx)
{
	struct pbx_change *chgv = NULL;
	const struct pbx_call **callv = NULL;
	size_t chgc = 0, callc = 0, ncalls = 0, ndns = 0;
	struct le *le, *lc;

	if (!pbx)
		return;

	LIST_FOREACH(&pbx->dnl, le) {
		const struct pbx_dn *d = le->data;

		if (list_isempty(&d->calls))
			continue;

		++ndns;
		ncalls += list_count(&d->calls);
	}

	if (!ndns)
		return;

	chgv  = mem_zalloc(ndns * sizeof(*chgv), NULL);
	callv = mem_zalloc(ncalls * sizeof(*callv), NULL);
	if (!chgv || !callv) {
		fakepbx_log("clear: out of memory");
		goto out;
	}

	/* unlink the calls but keep them alive until notified */
	LIST_FOREACH(&pbx->dnl, le) {
		struct pbx_dn *d = le->data;
		struct pbx_change *chg;

		if (list_isempty(&d->calls))
			continue;

		chg = &chgv[chgc++];
		chg->dn      = d;
		chg->callv   = &callv[callc];
		chg->removed = true;

		while ((lc = list_head(&d->calls))) {
			list_unlink(lc);
			callv[callc++] = lc->data;
			++chg->callc;
		}
	}

	subs_notify(pbx, chgv, chgc);

 out:
	while (callc > 0)
		mem_deref((void *)callv[--callc]);

	if (!chgv || !callv) {
		/* could not notify: at least make the DNs idle */
		LIST_FOREACH(&pbx->dnl, le) {
			struct pbx_dn *d = le->data;

			list_flush(&d->calls);
		}
	}

	mem_deref(chgv);
	mem_deref(callv);
}


/**
 * Print the occupied DNs as "DN=CALLID,CALLID;DN=CALLID"
 *
 * @param pf  Print handler
 * @param pbx Fake PBX
 *
 * @return 0 if success, otherwise errorcode
 */
int dnstore_print(struct re_printf *pf, const struct pbx *pbx)
{
	bool first = true;
	struct le *le, *lc;
	int err = 0;

	if (!pbx)
		return 0;

	LIST_FOREACH(&pbx->dnl, le) {
		const struct pbx_dn *d = le->data;

		if (list_isempty(&d->calls))
			continue;

		err |= re_hprintf(pf, "%s%s=", first ? "" : ";", d->dn);
		first = false;

		LIST_FOREACH(&d->calls, lc) {
			const struct pbx_call *call = lc->data;

			err |= re_hprintf(pf, "%s%s",
					  lc == d->calls.head ? "" : ",",
					  call->callid);
		}
	}

	return err;
}
