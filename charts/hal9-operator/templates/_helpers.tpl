{{/* Values inside a section (tuning.prometheusURL, networkPolicy.enabled, ...) are read with dig and the
default values.yaml gives them: helm upgrade --reuse-values renders with the values of the release it
upgrades, where a section or key a later chart version added is missing, and a plain read of it would be
nil or stop the render (nil pointer evaluating interface {}). A top-level value missing is nil, which the
templates read as its default where that matters (watchNamespace, neuronClusterOwner, the security contexts). */}}
{{/* The leader-election Lease: the operator's default name, or one per watched namespace (releases that
watch other namespaces lead through Leases of their own). The Role grants reading and renewing it alone. */}}
{{- define "hal9-operator.leaseName" -}}
{{- with .Values.watchNamespace }}{{ printf "hal9-operator-leader-%s" . }}{{ else }}hal9-operator-leader{{ end }}
{{- end }}

{{/* Chart name, truncated to the 63-character label limit. */}}
{{- define "hal9-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, unless it already contains the chart name. A release
name may hold dots, which a Service name may not: they become dashes. */}}
{{- define "hal9-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- $release := .Release.Name | replace "." "-" }}
{{- if contains $name $release }}
{{- $release | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" $release $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The full name with a suffix, within the 63-character limit of a Service name (and of a label value):
the full name is shortened, never the suffix, so that names which differ only in their suffix stay distinct.
Usage: include "hal9-operator.suffixedName" (list $ "metrics") */}}
{{- define "hal9-operator.suffixedName" -}}
{{- $ctx := index . 0 }}
{{- $suffix := index . 1 }}
{{- $prefix := include "hal9-operator.fullname" $ctx | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $prefix $suffix }}
{{- end }}

{{- define "hal9-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: name and instance only, because Deployment selectors are immutable. */}}
{{- define "hal9-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hal9-operator.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{- define "hal9-operator.labels" -}}
helm.sh/chart: {{ include "hal9-operator.chart" . }}
{{ include "hal9-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: hal9
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The chart's labels plus user labels (a dict, e.g. podLabels), as one mapping, so no key appears twice.
A user label may not set a key the chart sets (its selector labels select the operator's pods): the install
fails, naming the value. Usage: include "hal9-operator.labelsWith" (list $ .Values.podLabels "podLabels") */}}
{{- define "hal9-operator.labelsWith" -}}
{{- $chart := include "hal9-operator.labels" (index . 0) | fromYaml }}
{{- $labels := dict }}
{{- range $k, $v := index . 1 | default dict }}
{{- if hasKey $chart $k }}
{{- fail (printf "%s: %q is a label the chart sets itself (app.kubernetes.io/name and app.kubernetes.io/instance select the operator's pods); remove it" (index $ 2) $k) }}
{{- end }}
{{- $_ := set $labels $k (toString $v) }}
{{- end }}
{{- range $k, $v := $chart }}
{{- $_ := set $labels $k (toString $v) }}
{{- end }}
{{- toYaml $labels }}
{{- end }}

{{/* values.schema.json requires serviceAccount.name when create is false, and refuses the name default: the
operator never runs as (and never binds its ClusterRole to) the namespace's default ServiceAccount. */}}
{{- define "hal9-operator.serviceAccountName" -}}
{{- $name := dig "serviceAccount" "name" "" .Values.AsMap }}
{{- if dig "serviceAccount" "create" true .Values.AsMap }}
{{- default (include "hal9-operator.fullname" .) $name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false (the ServiceAccount the operator runs as and its RBAC binds)" $name }}
{{- end }}
{{- end }}

{{- define "hal9-operator.image" -}}
{{- $repository := dig "image" "repository" "hal9/operator" .Values.AsMap }}
{{- with dig "image" "digest" "" .Values.AsMap }}
{{- printf "%s@%s" $repository . }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion (dig "image" "tag" "" .Values.AsMap)) }}
{{- end }}
{{- end }}

{{/* A duration of values.schema.json's form (Prometheus': 30s, 2m, 1m30s; units h, m, s, ms) in
milliseconds. */}}
{{- define "hal9-operator.durationMs" -}}
{{- $units := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 }}
{{- $total := 0 }}
{{- range regexFindAll "[0-9]+(ms|h|m|s)" . -1 }}
{{- $total = add $total (mul (regexFind "^[0-9]+" . | int64) (get $units (regexFind "[a-z]+$" .))) }}
{{- end }}
{{- $total }}
{{- end }}

{{/* True when the Prometheus Operator's API serves the kind (discovery, or --api-versions
monitoring.coreos.com/v1/<Kind>): a cluster may have some of its CRDs and not others, and the group version
alone says nothing about which. Usage: include "hal9-operator.monitoringApi" (list $ "ServiceMonitor") */}}
{{- define "hal9-operator.monitoringApi" -}}
{{- if (index . 0).Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" (index . 1)) }}true{{ end }}
{{- end }}

{{/* True when the chart renders the operator's ServiceMonitor, i.e. Prometheus scrapes the operator. */}}
{{- define "hal9-operator.serviceMonitor" -}}
{{- if and (dig "serviceMonitor" "enabled" true .Values.AsMap) (include "hal9-operator.monitoringApi" (list . "ServiceMonitor")) }}true{{ end }}
{{- end }}

{{/* One operator per namespace: each operator reconciles every namespace (watchNamespace empty) or one, and
leads through its own Lease, so a second one over the same namespaces would lead too, and the two would both
write every Neuron's status and parallelism (each with its own admin key, whose tokens the other's runtime
pods refuse). Looks for the operator Deployment of anything but this release (another Helm release, or one
Argo CD or kubectl applied) whose namespaces overlap this release's: either watches every namespace (no
hal9.ai/watch-namespace annotation counts as every namespace), or both watch the same one. lookup answers
nothing under `helm template` and Argo CD, which render without a cluster. Listing Deployments cluster-wide
is forbidden to a user granted one namespace only (a tenant installing with watchNamespace):
preflight.oneOperatorCheck false skips it. */}}
{{- define "hal9-operator.oneOperator" -}}
{{- if dig "preflight" "oneOperatorCheck" true .Values.AsMap }}
{{- $mine := .Values.watchNamespace | default "" }}
{{- range (lookup "apps/v1" "Deployment" "" "").items }}
{{- $labels := .metadata.labels | default dict }}
{{- $annotations := .metadata.annotations | default dict }}
{{- $release := index $annotations "meta.helm.sh/release-name" | default "" }}
{{- $namespace := index $annotations "meta.helm.sh/release-namespace" | default "" }}
{{- $theirs := index $annotations "hal9.ai/watch-namespace" | default "" }}
{{- /* This release's, or the Deployment it would adopt (helm install --take-ownership of what
       `helm template | kubectl apply` made): same namespace, same name. */}}
{{- $adopted := and (eq .metadata.namespace $.Release.Namespace) (eq .metadata.name (include "hal9-operator.fullname" $)) }}
{{- $ours := or (and (eq $release $.Release.Name) (eq $namespace $.Release.Namespace)) $adopted }}
{{- $overlap := or (eq $mine "") (eq $theirs "") (eq $mine $theirs) }}
{{- if and (eq (index $labels "app.kubernetes.io/part-of" | default "") "hal9") (eq (index $labels "app.kubernetes.io/component" | default "") "operator") (not $ours) $overlap }}
{{- $by := printf "Deployment %s/%s" .metadata.namespace .metadata.name }}
{{- $fix := "uninstall it first" }}
{{- if $release }}
{{- $by = printf "release %q in namespace %q (%s)" $release $namespace $by }}
{{- $fix = printf "upgrade that release (helm upgrade %s -n %s), or uninstall it first" $release $namespace }}
{{- end }}
{{- $what := ternary (printf "namespace %q" $theirs) "every namespace" (ne $theirs "") }}
{{- $why := "a second operator over the same namespaces would fight it over every Hal9Cluster and Neuron there" }}
{{- fail (printf "the Hal9 operator is already installed by %s, reconciling %s: %s; %s, or give each release its own watchNamespace" $by $what $why $fix) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The namespaces the release grants RBAC in (watchNamespace, rbac.adminTokenSecrets) must exist: Helm
would apply the rest and then fail on their Roles, leaving a release half-installed whose operator never
syncs its caches. Checked only where lookup reads the cluster (not helm template or Argo CD). */}}
{{- define "hal9-operator.namespacesExist" -}}
{{- /* Namespaces are read at the cluster scope, as the one-operator check lists Deployments: a tenant who
       turns that check off (it may not) skips this one too. */}}
{{- $checks := and (dig "preflight" "namespacesCheck" true .Values.AsMap) (dig "preflight" "oneOperatorCheck" true .Values.AsMap) }}
{{- if and $checks (lookup "v1" "Namespace" "" "default") }}
{{- $needed := list }}
{{- with .Values.watchNamespace }}
{{- $needed = append $needed (list "watchNamespace" .) }}
{{- end }}
{{- range $i, $s := dig "rbac" "adminTokenSecrets" (list) .Values.AsMap }}
{{- with $s.namespace }}
{{- $needed = append $needed (list (printf "rbac.adminTokenSecrets[%d].namespace" $i) .) }}
{{- end }}
{{- end }}
{{- range $needed }}
{{- /* The release's own namespace is Helm's to create (--create-namespace), after the templates render. */}}
{{- if and (ne (index . 1) $.Release.Namespace) (not (lookup "v1" "Namespace" "" (index . 1))) }}
{{- fail (printf "%s: namespace %q does not exist; create it first (kubectl create namespace %s), then install" (index . 0) (index . 1) (index . 1)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* A security context: the value with its null fields left out, or, when the value is missing (helm
upgrade --reuse-values from a release before it), the chart's default. Empty: nothing.
Usage: include "hal9-operator.securityContext" (list .Values.podSecurityContext "hal9-operator.defaultPodSecurityContext" $) */}}
{{- define "hal9-operator.securityContext" -}}
{{- $value := index . 0 }}
{{- if kindIs "invalid" $value }}
{{- $value = include (index . 1) (index . 2) | fromYaml }}
{{- end }}
{{- $out := dict }}
{{- range $k, $v := $value }}
{{- if not (kindIs "invalid" $v) }}
{{- $_ := set $out $k $v }}
{{- end }}
{{- end }}
{{- if $out }}
{{- toYaml $out }}
{{- end }}
{{- end }}

{{/* values.yaml's podSecurityContext and securityContext: a test keeps them equal. */}}
{{- define "hal9-operator.defaultPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "hal9-operator.defaultSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* extraArgs, extraEnv, extraVolumes and extraVolumeMounts add to what the chart sets, never repeat or
replace it: of a flag given twice the operator takes the last (node:util parseArgs), silently, and a
repeated env var, volume or mount path is refused at apply (server-side apply's duplicate keys, the
apiserver's validation). Fails naming the entry. */}}
{{- define "hal9-operator.checkExtras" -}}
{{- $byChart := dict
  "leader-elect" "the chart always passes --leader-elect: its replicas elect a leader"
  "namespace" "--namespace comes from watchNamespace: set that instead"
  "lease-name" "--lease-name comes from watchNamespace (each watched namespace has a Lease of its own): set that instead"
  "leader-election-namespace" "the Lease is in the release namespace, where the chart's Role grants it"
  "admin-key-secret" "the chart's Role lets the operator read one Secret, hal9-operator-admin-key"
  "identity" "each pod leads as its own name (POD_NAME): replicas with one identity would all lead"
  "bind-address" "the chart passes --bind-address ::, so the kubelet's probes and Prometheus reach the pod on its IP"
  "metrics-port" "--metrics-port comes from metrics.port: set that instead"
  "health-port" "--health-port comes from health.port: set that instead"
  "log-level" "--log-level comes from logLevel: set that instead"
  "tuning-interval" "--tuning-interval comes from tuning.intervalSeconds: set that instead"
  "prometheus-url" "--prometheus-url comes from tuning.prometheusURL: set that instead"
  "prometheus-bearer-token-file" "--prometheus-bearer-token-file comes from tuning.prometheusBearerTokenFile: set that instead"
  "prometheus-origins" "--prometheus-origins comes from tuning.prometheusOrigins: set that instead"
  "pod-cidrs" "--pod-cidrs comes from tuning.podCidrs: set that instead"
  "allow-privileged-namespaces" "--allow-privileged-namespaces comes from privileged.allowedNamespaces: set that instead"
  "network-policies" "--[no-]network-policies comes from networkPolicy.enabled: set that instead"
  "prometheus-namespace-selector" "--prometheus-namespace-selector comes from networkPolicy.prometheusNamespaceSelector: set that instead"
  "neuron-cluster-owner" "--[no-]neuron-cluster-owner comes from neuronClusterOwner: set that instead"
  "help" "--help prints the flags and exits, so the pod would restart for ever"
}}
{{- /* The operator's other flags: any other name would stop it at start (an unknown flag). */}}
{{- $yours := list "workers" "resync-seconds" "first-status-wait-ms" "tuning-window" "kubeconfig" }}
{{- range .Values.extraArgs }}
{{- $flag := regexFind "^--[a-z][-a-z0-9]*" . | trimPrefix "--" }}
{{- $reason := get $byChart $flag | default (get $byChart ($flag | trimPrefix "no-")) }}
{{- if $reason }}
{{- fail (printf "extraArgs: %q is refused: %s" . $reason) }}
{{- end }}
{{- if and $flag (not (has $flag $yours)) }}
{{- fail (printf "extraArgs: %q is no flag of the operator's (it would exit at start): extraArgs takes --workers, --resync-seconds, --first-status-wait-ms, --tuning-window and --kubeconfig; the chart sets the others from its values" .) }}
{{- end }}
{{- end }}
{{- $env := dict "POD_NAME" true "POD_NAMESPACE" true }}
{{- range .Values.extraEnv }}
{{- if hasKey $env .name }}
{{- fail (printf "extraEnv: %q is listed twice, or is one the chart sets (POD_NAME, POD_NAMESPACE)" .name) }}
{{- end }}
{{- $_ := set $env .name true }}
{{- end }}
{{- $volumes := dict "tmp" true }}
{{- range .Values.extraVolumes }}
{{- if hasKey $volumes .name }}
{{- fail (printf "extraVolumes: %q is listed twice, or is the chart's own volume (tmp, at /tmp)" .name) }}
{{- end }}
{{- $_ := set $volumes .name true }}
{{- end }}
{{- $paths := dict "/tmp" true }}
{{- range .Values.extraVolumeMounts }}
{{- if not (hasKey $volumes .name) }}
{{- fail (printf "extraVolumeMounts: %q names no volume: add it to extraVolumes" .name) }}
{{- end }}
{{- if hasKey $paths (clean .mountPath) }}
{{- fail (printf "extraVolumeMounts: %q is mounted twice, or is the chart's own /tmp" .mountPath) }}
{{- end }}
{{- $_ := set $paths (clean .mountPath) true }}
{{- end }}
{{- end }}

{{/* The secret-reference ValidatingAdmissionPolicy and its binding are cluster-scoped: named after the release's
full name and namespace, so two releases never share them (releases of the same name, each watching its own
namespace, in namespaces of their own). A namespace name has no dot: the name reads back unambiguously. */}}
{{- define "hal9-operator.secretReferencePolicyName" -}}
{{- printf "%s-secret-references.%s" (include "hal9-operator.fullname" .) .Release.Namespace }}
{{- end }}

{{/* The secret-reference policy's messageExpression (quoted) for the reference at a field, whose Secret's name is
the CEL expression given; the policy's variable "refused" says why and what to do.
Usage: include "hal9-operator.secretReferenceMessage" (list "spec.x" "variables.x") */}}
{{- define "hal9-operator.secretReferenceMessage" -}}
{{- printf "'%s names Secret \"' + %s + '\"' + variables.refused" (index . 0) (index . 1) | toJson }}
{{- end }}

{{/* The namespaces the secret-reference policy's binding selects: admissionPolicy.namespaceSelector, narrowed to
watchNamespace when the release watches one namespace (its operator mounts nothing elsewhere). Empty: every
namespace. */}}
{{- define "hal9-operator.secretReferenceNamespaceSelector" -}}
{{- $selector := dig "admissionPolicy" "namespaceSelector" (dict) .Values.AsMap }}
{{- $out := dict }}
{{- with $selector.matchLabels }}
{{- $_ := set $out "matchLabels" . }}
{{- end }}
{{- $expressions := $selector.matchExpressions | default list }}
{{- with .Values.watchNamespace }}
{{- $expressions = append $expressions (dict "key" "kubernetes.io/metadata.name" "operator" "In" "values" (list .)) }}
{{- end }}
{{- with $expressions }}
{{- $_ := set $out "matchExpressions" . }}
{{- end }}
{{- with $out }}
{{- toYaml . }}
{{- end }}
{{- end }}
