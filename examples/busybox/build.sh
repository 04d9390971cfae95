#!/usr/bin/env bash
# Builds examples/busybox/busybox.oci.tar: a small real image for the README's first command.
#
#   layer 0  Debian bookworm's base-files and busybox-static, installed by dpkg
#            (a real /var/lib/dpkg/status, info/*.list and md5sums)
#   layer 1  `busybox --install -s` (applet symlinks) and /etc/motd deleted (a whiteout)
#
# Needs root, Debian's package archive, umoci and skopeo (installed if missing).
# The committed archive is the output of this script; rebuild it only to refresh it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for t in umoci skopeo; do
  command -v $t >/dev/null || { apt-get update -qq; apt-get install -y -q umoci skopeo >/dev/null; break; }
done
cd "$WORK"
apt-get download -q busybox-static base-files 2>/dev/null

R="$WORK/rootfs"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/bin" "$R/etc"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\nmail:x:8:\nstaff:x:50:\nutmp:x:43:\nadm:x:4:\n' > "$R/etc/group"
dpkg --root="$R" --force-depends --unpack ./*.deb >/dev/null 2>&1
# maintainer scripts run in a chroot: give them busybox's applets for a moment
chroot "$R" /bin/busybox --install -s /bin
dpkg --root="$R" --force-depends --configure -a >/dev/null 2>&1
find "$R/bin" -type l -lname '/bin/busybox' -delete
rm -f "$R/var/lib/dpkg/"*-old

umoci init --layout oci >/dev/null
umoci new --image oci:busybox >/dev/null
umoci unpack --image oci:busybox bundle >/dev/null
cp -a "$R/." bundle/rootfs/
umoci repack --image oci:busybox --history.created_by "dpkg -i base-files busybox-static" bundle >/dev/null
rm -rf bundle
umoci unpack --image oci:busybox bundle >/dev/null
chroot bundle/rootfs /bin/busybox --install -s /bin
rm -f bundle/rootfs/etc/motd
umoci repack --image oci:busybox --history.created_by "RUN busybox --install -s; rm /etc/motd" bundle >/dev/null
umoci config --image oci:busybox --config.cmd /bin/sh --config.env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  --config.label org.opencontainers.image.title=anchore-example --history.created_by 'CMD ["/bin/sh"]' >/dev/null
rm -f "$HERE/busybox.oci.tar"
skopeo copy -q oci:oci:busybox "oci-archive:$HERE/busybox.oci.tar:busybox"
ls -la "$HERE/busybox.oci.tar"
