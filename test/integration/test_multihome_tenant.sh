# A tenant's own address (tenant_listen, a socket of its own beside
# sip_listen's): a phone behind a strict firewall (strictphone.py) that
# subscribes there, to the tenant's BLF list and to one of its orbits,
# gets every NOTIFY (the first, a park, the final one after its
# un-SUBSCRIBE) from that address and port, with it in Via and
# Contact; nothing from sip_listen's address (libre's own choice).
. "$(dirname "$0")/lib.sh"

start_fakepbx
mkdir -p "$T/tenants.d"
printf 'park-1 *00\npark-2 *01\n' >"$T/t.map"
D_PORT=$(free_port)
cat >"$T/tenants.d/d.conf" <<EOM
upstream_uri		sip:any-dn@127.0.0.1:$PBX_PORT
upstream_user		9999
upstream_password	secret
orbit_map		../t.map
tenant_domain		customer-d.example
tenant_listen		127.0.0.2:$D_PORT
blf_list		parks
EOM
cat >"$T/parkblf.conf" <<EOM
sip_listen		127.0.0.1:0
upstream_retry_min	1
upstream_retry_max	2
tenants_dir		tenants.d
log_level		debug
EOM
start_parkblf

strict_phones 127.0.0.2 "$D_PORT"
