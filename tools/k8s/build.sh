#!/usr/bin/env bash
# Builds the Kubernetes control plane (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl) and etcd from the Go module proxy into a cache directory keyed by version, outside the
# repository. Binaries already there are not rebuilt.
#
#   tools/k8s/build.sh          build what is missing; the last lines on stdout are NAME=path
#   tools/k8s/build.sh --check  build nothing; exit 1 if a binary is missing
#
# The versions come from the wrapper modules' go.mod files (tools/k8s/kubernetes, tools/k8s/etcd):
# no Go code of ours, only the requires and the staging replaces that `go install pkg@version`
# cannot express. OSA_K8S_CACHE overrides the cache root (default ~/.cache/osa-ingest/k8s).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache_root="${OSA_K8S_CACHE:-${HOME}/.cache/osa-ingest/k8s}"
check_only=0
[[ "${1:-}" == "--check" ]] && check_only=1

kube_version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/kubernetes/go.mod")"
etcd_version="$(awk '$1 == "require" && $2 == "go.etcd.io/etcd/server/v3" { print $3 }' "$here/etcd/go.mod")"
[[ "$kube_version" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || { echo "build.sh: cannot read the k8s.io/kubernetes version from $here/kubernetes/go.mod" >&2; exit 2; }
kube_minor="${BASH_REMATCH[1]}"
[[ "$etcd_version" =~ ^v3\.[0-9]+\.[0-9]+$ ]] || { echo "build.sh: cannot read the etcd version from $here/etcd/go.mod" >&2; exit 2; }

kube_dir="$cache_root/kubernetes-$kube_version"
etcd_dir="$cache_root/etcd-$etcd_version"
kube_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

missing_kube=()
for b in "${kube_bins[@]}"; do [[ -x "$kube_dir/$b" ]] || missing_kube+=("$b"); done
missing_etcd=0
[[ -x "$etcd_dir/etcd" ]] || missing_etcd=1

if (( check_only )); then
  if (( ${#missing_kube[@]} || missing_etcd )); then
    echo "build.sh: missing in $cache_root: ${missing_kube[*]} $( ((missing_etcd)) && echo etcd)" >&2
    exit 1
  fi
else
  command -v go >/dev/null || { echo "build.sh: go is not installed; the Kubernetes binaries cannot be built" >&2; exit 2; }
  export CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly
  started=$SECONDS
  if (( ${#missing_kube[@]} )); then
    mkdir -p "$kube_dir"
    # Without the -X stamps the binaries report v0.0.0-master, which clients and the apiserver's
    # own version checks do not accept.
    stamp=""
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      stamp+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor"
      stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    pkgs=()
    for b in "${missing_kube[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
    tmp="$(mktemp -d "$kube_dir/.build.XXXXXX")"
    echo "build.sh: building ${missing_kube[*]} $kube_version into $kube_dir" >&2
    # One go build for all binaries so the shared packages compile once.
    (cd "$here/kubernetes" && go build -trimpath -tags=selinux,notest,grpcnotrace \
      -ldflags "-s -w$stamp" -o "$tmp/" "${pkgs[@]}")
    for b in "${missing_kube[@]}"; do mv "$tmp/$b" "$kube_dir/$b"; done
    rmdir "$tmp"
  fi
  if (( missing_etcd )); then
    mkdir -p "$etcd_dir"
    echo "build.sh: building etcd $etcd_version into $etcd_dir" >&2
    tmp="$(mktemp -d "$etcd_dir/.build.XXXXXX")"
    (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
    mv "$tmp/etcd" "$etcd_dir/etcd"
    rmdir "$tmp"
  fi
  echo "build.sh: done in $((SECONDS - started)) s (built: ${missing_kube[*]} $( ((missing_etcd)) && echo etcd))" >&2
fi

echo "KUBE_VERSION=$kube_version"
echo "ETCD_VERSION=$etcd_version"
for b in "${kube_bins[@]}"; do
  echo "$(echo "$b" | tr 'a-z-' 'A-Z_')=$kube_dir/$b"
done
echo "ETCD=$etcd_dir/etcd"
