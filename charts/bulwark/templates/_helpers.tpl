{{- define "bulwark.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bulwark.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "bulwark.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "bulwark.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: bulwark
{{- end -}}

{{- define "bulwark.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bulwark.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "bulwark.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "bulwark.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "bulwark.tlsSecretName" -}}
{{- if eq .Values.certificates.mode "secret" -}}
{{- required "certificates.existingSecret is required with certificates.mode=secret" .Values.certificates.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "bulwark.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The configuration file Bulwark reads (config.yaml), built from values. */}}
{{- define "bulwark.config" -}}
{{- $store := dict "url" .Values.alerts.storeUrl -}}
{{- $api := dict "port" (int .Values.alerts.api.port) "address" .Values.listenAddress "auth" "kubernetes" "audiences" .Values.alerts.api.audiences "tlsCert" "/etc/bulwark/tls/tls.crt" "tlsKey" "/etc/bulwark/tls/tls.key" -}}
{{- $server := dict "port" 8443 "address" .Values.listenAddress "namespace" .Release.Namespace "tlsCert" "/etc/bulwark/tls/tls.crt" "tlsKey" "/etc/bulwark/tls/tls.key" -}}
{{- if .Values.apiserverClientCA -}}
{{- $_ := set $server "clientCA" "/etc/bulwark/client-ca.crt" -}}
{{- end -}}
{{- if .Values.metrics.port -}}
{{- $_ := set $server "metricsPort" (int .Values.metrics.port) -}}
{{- $_ := set $server "metricsOnWebhookPort" .Values.metrics.onWebhookPort -}}
{{- end -}}
{{- $base := dict "profiles" .Values.profiles "defaultAction" .Values.mode "actions" .Values.actions "onError" .Values.onError "mutations" .Values.mutation.mutations "server" $server "store" $store -}}
{{- $exempt := deepCopy .Values.exemptions -}}
{{- $_ := set $exempt "namespaces" (concat (list .Release.Namespace) (default (list) .Values.exemptions.namespaces) | uniq) -}}
{{- $_ := set $base "exemptions" $exempt -}}
{{- if .Values.alerts.api.enabled -}}{{- $_ := set $base "api" $api -}}{{- end -}}
{{- $_ := set $base "backgroundScan" (dict "enabled" .Values.backgroundScan.enabled "resync" .Values.backgroundScan.resync "debounce" .Values.backgroundScan.debounce) -}}
{{- $_ := set $base "reports" (dict "includePass" .Values.reports.includePass "maxResultsPerReport" (int .Values.reports.maxResultsPerReport)) -}}
{{- if .Values.notify.sinks -}}{{- $_ := set $base "notify" (dict "sinks" .Values.notify.sinks) -}}{{- end -}}
{{- toYaml (mergeOverwrite $base (deepCopy .Values.extraConfig)) -}}
{{- end -}}

{{/* Every subject kind Bulwark checks, for CREATE and UPDATE. */}}
{{- define "bulwark.validateRules" -}}
- apiGroups: [""]
  apiVersions: ["*"]
  resources: [pods, pods/ephemeralcontainers, podtemplates, replicationcontrollers, services]
  operations: [CREATE, UPDATE]
  scope: "*"
- apiGroups: [apps]
  apiVersions: ["*"]
  resources: [deployments, replicasets, statefulsets, daemonsets]
  operations: [CREATE, UPDATE]
  scope: "*"
- apiGroups: [batch]
  apiVersions: ["*"]
  resources: [jobs, cronjobs]
  operations: [CREATE, UPDATE]
  scope: "*"
- apiGroups: [rbac.authorization.k8s.io]
  apiVersions: ["*"]
  resources: [roles, clusterroles, rolebindings, clusterrolebindings]
  operations: [CREATE, UPDATE]
  scope: "*"
- apiGroups: [networking.k8s.io, extensions]
  apiVersions: ["*"]
  resources: [ingresses]
  operations: [CREATE, UPDATE]
  scope: "*"
{{- end -}}

{{- define "bulwark.mutateRules" -}}
- apiGroups: [""]
  apiVersions: ["*"]
  resources: [pods, podtemplates, replicationcontrollers]
  operations: [CREATE, UPDATE]
  scope: Namespaced
- apiGroups: [apps]
  apiVersions: ["*"]
  resources: [deployments, replicasets, statefulsets, daemonsets]
  operations: [CREATE, UPDATE]
  scope: Namespaced
- apiGroups: [batch]
  apiVersions: ["*"]
  resources: [jobs, cronjobs]
  operations: [CREATE, UPDATE]
  scope: Namespaced
{{- end -}}

{{/* Namespaces the enforcing and mutating webhooks never see. The label selector needs
Kubernetes 1.21+ (kubernetes.io/metadata.name); on older clusters label those namespaces
bulwark.io/webhook=ignore. */}}
{{- define "bulwark.excludedNamespaceSelector" -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- toYaml (concat (list "kube-system" .Release.Namespace) .Values.webhook.excludeNamespaces | uniq) | nindent 6 }}
  - key: bulwark.io/webhook
    operator: NotIn
    values: [ignore]
{{- end -}}

{{/* Refuses installs that would silently leave workloads unprotected (called from configmap.yaml). */}}
{{- define "bulwark.validate" -}}
{{- $ns := .Release.Namespace -}}
{{- if has $ns (list "default" "kube-system" "kube-public" "kube-node-lease") -}}
{{- fail (printf "Bulwark must be installed into a namespace of its own (helm install -n bulwark-system --create-namespace), not %q: the release namespace is exempt from enforcement and observation, so every workload in %q would go unchecked" $ns $ns) -}}
{{- end -}}
{{- if not .Values.allowSharedNamespace -}}
{{- $pods := lookup "v1" "Pod" $ns "" -}}
{{- range $pod := (default (list) (get (default (dict) $pods) "items")) -}}
{{- $labels := default (dict) $pod.metadata.labels -}}
{{- if ne (get $labels "app.kubernetes.io/instance") $.Release.Name -}}
{{- fail (printf "namespace %q already runs pod %q, which is not part of this release: the release namespace is exempt from enforcement and observation. Install Bulwark into a namespace of its own, or set allowSharedNamespace=true to accept that %q goes unchecked" $ns $pod.metadata.name $ns) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when the replicas share the alert store (PostgreSQL): its maintenance then runs on one Lease holder. */}}
{{- define "bulwark.sharedStore" -}}
{{- if or .Values.alerts.storeUrlSecret (not (hasPrefix "sqlite:" .Values.alerts.storeUrl)) -}}true{{- end -}}
{{- end -}}
