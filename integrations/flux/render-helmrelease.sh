#!/bin/sh
# Render a Flux HelmRelease as helm-controller does, so that CI can check the result: `helm template` with
# the release's name, namespace and spec.values, then each spec.postRenderers[].kustomize (patches, images)
# in order, applied by the kustomize built into kubectl.
#   render-helmrelease.sh HELMRELEASE.yaml CHART [HELM FLAGS...] > rendered.yaml
# Needs helm and kubectl, no cluster. spec.valuesFrom is not read: pass those values as HELM FLAGS (-f FILE).
set -eu
release=$1 chart=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
field() { kubectl label --local -f "$release" olrender- -o jsonpath="$1"; }  # reads the file, offline
target=$(field '{.spec.targetNamespace}')
name=$(field '{.spec.releaseName}')
[ -n "$name" ] || name=${target:+$target-}$(field '{.metadata.name}')
namespace=${target:-$(field '{.metadata.namespace}')}
field '{.spec.values}' >"$work/values.json"  # JSON is YAML
[ -s "$work/values.json" ] || echo '{}' >"$work/values.json"
helm template "$name" "$chart" ${namespace:+--namespace "$namespace"} -f "$work/values.json" "$@" >"$work/0.yaml"
field '{range .spec.postRenderers[*]}{.kustomize}{"\n"}{end}' >"$work/renderers"
i=0
while IFS= read -r renderer; do  # one JSON object per post-renderer: {"patches": [...], "images": [...]}
  case $renderer in '' | '{}') continue ;; esac
  mkdir "$work/$i.d"
  mv "$work/$i.yaml" "$work/$i.d/input.yaml"
  printf '{"resources": ["input.yaml"], %s\n' "${renderer#\{}" >"$work/$i.d/kustomization.yaml"
  kubectl kustomize "$work/$i.d" >"$work/$((i + 1)).yaml"
  i=$((i + 1))
done <"$work/renderers"
cat "$work/$i.yaml"
