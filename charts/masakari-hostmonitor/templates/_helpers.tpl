{{/*
Copyright 2026 The masakari-monitors-k8s Authors

Licensed under the Apache License, Version 2.0 (the "License"); you may
not use this file except in compliance with the License. You may obtain
a copy of the License at

     http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
License for the specific language governing permissions and limitations
under the License.
*/}}

{{/*
Small stand-ins for the helm-toolkit helpers this chart would otherwise
use. helm-toolkit cannot be fetched in our CI, so the chart carries its own,
with the same behaviour where OSH users can see it: the oslo.conf rendering,
the endpoint lookups and the labels.

Predicates return "true" or "" so they can be used in `if`.
*/}}

{{/* Name of the namespaced objects: one release is one monitor. */}}
{{- define "masakari-hostmonitor.name" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of the cluster-scoped objects and of those outside the release
namespace, which two releases in two namespaces must not share.
*/}}
{{- define "masakari-hostmonitor.globalName" -}}
{{- printf "%s-%s" .Release.Name .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "masakari-hostmonitor.etcSecretName" -}}
{{- .Values.secrets.etc.masakari_host_monitor | default (printf "%s-etc" (include "masakari-hostmonitor.name" .)) -}}
{{- end -}}

{{/* The labels that select the monitor pods (immutable in a Deployment). */}}
{{- define "masakari-hostmonitor.selectorLabels" -}}
release_group: {{ .Values.release_group | default .Release.Name }}
application: masakari
component: host-monitor
{{- end -}}

{{/*
The `helm test` Pod: another component, so the Deployment's selector never
adopts it, but the same release_group and application (the NetworkPolicy
covers both).
*/}}
{{- define "masakari-hostmonitor.testLabels" -}}
release_group: {{ .Values.release_group | default .Release.Name }}
application: masakari
component: host-monitor-test
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: host-monitor-test
app.kubernetes.io/part-of: masakari
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* OSH's three labels, plus the recommended app.kubernetes.io ones. */}}
{{- define "masakari-hostmonitor.labels" -}}
{{ include "masakari-hostmonitor.selectorLabels" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: host-monitor
app.kubernetes.io/part-of: masakari
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The [k8s] group of the values, never nil. */}}
{{- define "masakari-hostmonitor.k8sConf" -}}
{{- .Values.conf.masakarimonitors.k8s | default dict | toJson -}}
{{- end -}}

{{- define "masakari-hostmonitor.leaderElection" -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- if $k8s.leader_election }}true{{ end -}}
{{- end -}}

{{/* The driver's defaults for the lease; the Role must name the same. */}}
{{- define "masakari-hostmonitor.leaderElectionNamespace" -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- $k8s.leader_election_namespace | default .Release.Namespace -}}
{{- end -}}

{{/*
The release name, not the driver's fixed default: two releases in one
namespace must not share a leader. The conf is given the same name.
*/}}
{{- define "masakari-hostmonitor.leaderElectionLeaseName" -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- $k8s.leader_election_lease_name | default (include "masakari-hostmonitor.name" .) -}}
{{- end -}}

{{/* [k8s] node_events, true (the driver's default) when unset. */}}
{{- define "masakari-hostmonitor.nodeEvents" -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- if or (not (hasKey $k8s "node_events")) (kindIs "invalid" $k8s.node_events) $k8s.node_events }}true{{ end -}}
{{- end -}}

{{/* The namespace the driver writes Node Events to (kube/events.py). */}}
{{- define "masakari-hostmonitor.eventNamespace" -}}
default
{{- end -}}

{{/* [api] authenticates with a Keystone password. */}}
{{- define "masakari-hostmonitor.passwordAuth" -}}
{{- $api := .Values.conf.masakarimonitors.api | default dict -}}
{{- if has ($api.auth_type | default "password" | toString) (list "password" "v3password") }}true{{ end -}}
{{- end -}}

{{/*
The [api] password comes from secrets.identity.masakari as the
environment variable OS_API__PASSWORD (oslo.config's environment source),
not from the conf file.
*/}}
{{- define "masakari-hostmonitor.passwordFromSecret" -}}
{{- $identity := .Values.secrets.identity | default dict -}}
{{- if and (include "masakari-hostmonitor.passwordAuth" .) $identity.masakari }}true{{ end -}}
{{- end -}}

{{/*
The CA bundle to mount, as a dict (kind Secret or ConfigMap, name, key),
or an empty dict: secrets.ca_bundle, else with manifests.certificates the
ca.crt of OSH's masakari-api TLS Secret.
*/}}
{{- define "masakari-hostmonitor.caBundle" -}}
{{- $bundle := .Values.secrets.ca_bundle | default dict -}}
{{- $key := $bundle.key | default "ca.crt" -}}
{{- if $bundle.secret -}}
{{- dict "kind" "Secret" "name" $bundle.secret "key" $key | toJson -}}
{{- else if $bundle.config_map -}}
{{- dict "kind" "ConfigMap" "name" $bundle.config_map "key" $key | toJson -}}
{{- else if .Values.manifests.certificates -}}
{{- $tls := .Values.secrets.tls | default dict -}}
{{- $name := dig "instance_ha" "api" "internal" "" $tls -}}
{{- if $name -}}
{{- dict "kind" "Secret" "name" $name "key" "ca.crt" | toJson -}}
{{- else -}}
{{- dict | toJson -}}
{{- end -}}
{{- else -}}
{{- dict | toJson -}}
{{- end -}}
{{- end -}}

{{/* Where the CA bundle is in the pod: OSH's path unless cacert says. */}}
{{- define "masakari-hostmonitor.caBundlePath" -}}
{{- .Values.endpoints.identity.auth.masakari.cacert | default "/etc/ssl/certs/openstack-helm.crt" -}}
{{- end -}}

{{- define "masakari-hostmonitor.watchLeases" -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- if $k8s.watch_leases }}true{{ end -}}
{{- end -}}

{{/* Default of [k8s] lease_namespace in masakarimonitors_k8s/conf.py. */}}
{{- define "masakari-hostmonitor.nodeLeaseNamespace" -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- $k8s.lease_namespace | default "kube-node-lease" -}}
{{- end -}}

{{/* The fence action: the only reason to patch nodes. */}}
{{- define "masakari-hostmonitor.fenceAction" -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- if eq ($k8s.fence_action | default "" | toString) "redfish-power-off" }}true{{ end -}}
{{- end -}}

{{/* Redfish is used for evidence, for the action, or both. */}}
{{- define "masakari-hostmonitor.redfish" -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- if or (eq ($k8s.fencing | default "" | toString) "redfish") (include "masakari-hostmonitor.fenceAction" .) }}true{{ end -}}
{{- end -}}

{{- define "masakari-hostmonitor.livenessProbe" -}}
{{- if .Values.pod.probes.masakari_host_monitor.masakari_host_monitor.liveness.enabled }}true{{ end -}}
{{- end -}}

{{- define "masakari-hostmonitor.readinessProbe" -}}
{{- if .Values.pod.probes.masakari_host_monitor.masakari_host_monitor.readiness.enabled }}true{{ end -}}
{{- end -}}

{{/* Something reads the status port: it must then be open and known. */}}
{{- define "masakari-hostmonitor.statusPortUsed" -}}
{{- if or (include "masakari-hostmonitor.livenessProbe" .) (include "masakari-hostmonitor.readinessProbe" .) .Values.manifests.service_metrics }}true{{ end -}}
{{- end -}}

{{/*
[k8s] status_port, 8080 when unset (the driver's own default is 0, no
status server; the chart needs one for its probes and metrics).
*/}}
{{- define "masakari-hostmonitor.statusPort" -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- $k8s.status_port | default 8080 | int -}}
{{- end -}}

{{- define "masakari-hostmonitor.redfishCredentialsFile" -}}
/etc/masakarimonitors/redfish-credentials
{{- end -}}

{{- define "masakari-hostmonitor.redfishBmcMapFile" -}}
/etc/masakarimonitors/redfish-bmc-map.yaml
{{- end -}}

{{/*
One oslo.config value. Helm reads every number in a values file as a
float64, which Go prints as 1e+06 once it is large; whole numbers are
printed as integers instead.
*/}}
{{- define "masakari-hostmonitor.utils.oslo_value" -}}
{{- if and (kindIs "float64" .) (eq . (float64 (int64 .))) -}}
{{- int64 . -}}
{{- else -}}
{{- . -}}
{{- end -}}
{{- end -}}

{{/*
A dict of sections rendered as an oslo.config file, as helm-toolkit's
to_oslo_conf does: a list becomes a comma-separated value, a map with
type multistring repeats the key per value, a map with type csv joins
its values. A null value is left out (as helm-toolkit does since 2026.1),
so values.yaml can list an option without overriding the driver's default.
*/}}
{{- define "masakari-hostmonitor.utils.to_oslo_conf" -}}
{{- range $section, $values := . -}}
{{- if kindIs "map" $values }}
[{{ $section }}]
{{- range $key, $value := $values -}}
{{- if kindIs "invalid" $value -}}
{{- else if kindIs "slice" $value }}
{{ $key }} = {{ $value | join "," }}
{{- else if kindIs "map" $value -}}
{{- if eq ($value.type | toString) "multistring" -}}
{{- range $item := $value.values }}
{{ $key }} = {{ include "masakari-hostmonitor.utils.oslo_value" $item }}
{{- end -}}
{{- else if eq ($value.type | toString) "csv" }}
{{ $key }} = {{ $value.values | join "," }}
{{- end -}}
{{- else }}
{{ $key }} = {{ include "masakari-hostmonitor.utils.oslo_value" $value }}
{{- end -}}
{{- end }}
{{ end -}}
{{- end -}}
{{- end -}}

{{/*
helm-toolkit's endpoint lookups, reduced to what this chart needs.
Arguments: tuple <endpoints key> <endpoint type> $envAll; the type falls
back to "default" as in OSH.
*/}}
{{- define "masakari-hostmonitor.endpoints.fqdn" -}}
{{- $service := index . 0 -}}
{{- $type := index . 1 -}}
{{- $envAll := index . 2 -}}
{{- $endpoint := index $envAll.Values.endpoints $service -}}
{{- $overrides := $endpoint.host_fqdn_override | default dict -}}
{{- $override := index $overrides $type | default $overrides.default -}}
{{- if kindIs "map" $override -}}
{{- $override = $override.host -}}
{{- end -}}
{{- if $override -}}
{{- $override -}}
{{- else -}}
{{- $host := index $endpoint.hosts $type | default $endpoint.hosts.default -}}
{{- if kindIs "map" $host -}}
{{- $host = $host.host -}}
{{- end -}}
{{- $namespace := $endpoint.namespace | default $envAll.Release.Namespace -}}
{{- printf "%s.%s.svc.%s" $host $namespace $envAll.Values.endpoints.cluster_domain_suffix -}}
{{- end -}}
{{- end -}}

{{/* tuple <endpoints key> <endpoint type> <port name> $envAll */}}
{{- define "masakari-hostmonitor.endpoints.port" -}}
{{- $service := index . 0 -}}
{{- $type := index . 1 -}}
{{- $portName := index . 2 -}}
{{- $envAll := index . 3 -}}
{{- $ports := index (index $envAll.Values.endpoints $service).port $portName -}}
{{- index $ports $type | default $ports.default | int -}}
{{- end -}}

{{/* Value of a scheme or path, which OSH allows as a string or per type. */}}
{{- define "masakari-hostmonitor.endpoints.perType" -}}
{{- $value := index . 0 -}}
{{- $type := index . 1 -}}
{{- if kindIs "map" $value -}}
{{- index $value $type | default $value.default | default "" -}}
{{- else -}}
{{- $value | default "" -}}
{{- end -}}
{{- end -}}

{{/* tuple <endpoints key> <endpoint type> <port name> $envAll */}}
{{- define "masakari-hostmonitor.endpoints.uri" -}}
{{- $service := index . 0 -}}
{{- $type := index . 1 -}}
{{- $portName := index . 2 -}}
{{- $envAll := index . 3 -}}
{{- $endpoint := index $envAll.Values.endpoints $service -}}
{{- $scheme := tuple $endpoint.scheme $type | include "masakari-hostmonitor.endpoints.perType" | default "http" -}}
{{- $path := tuple $endpoint.path $type | include "masakari-hostmonitor.endpoints.perType" -}}
{{- $host := tuple $service $type $envAll | include "masakari-hostmonitor.endpoints.fqdn" -}}
{{- $port := tuple $service $type $portName $envAll | include "masakari-hostmonitor.endpoints.port" -}}
{{- printf "%s://%s:%s%s" $scheme $host $port $path -}}
{{- end -}}

{{/*
The conf the monitor reads: conf.masakarimonitors with the [api] auth
filled from the endpoints (only where not set, as OSH's configmap-etc
does) and the [k8s] paths and ports the chart itself decides.
*/}}
{{- define "masakari-hostmonitor.conf" -}}
{{- $envAll := . -}}
{{- $conf := deepCopy .Values.conf.masakarimonitors -}}
{{- $api := $conf.api | default dict -}}
{{- $authType := $api.auth_type | default "password" | toString -}}
{{- if has $authType (list "password" "v3password") -}}
{{- $auth := .Values.endpoints.identity.auth.masakari -}}
{{- if empty $api.auth_url -}}
{{- $_ := set $api "auth_url" (tuple "identity" "internal" "api" $envAll | include "masakari-hostmonitor.endpoints.uri") -}}
{{- end -}}
{{- range $option, $source := dict "username" "username" "password" "password" "project_name" "project_name" "user_domain_name" "user_domain_name" "project_domain_name" "project_domain_name" "region" "region_name" -}}
{{- if empty (index $api $option) -}}
{{- $_ := set $api $option (index $auth $source) -}}
{{- end -}}
{{- end -}}
{{- if include "masakari-hostmonitor.passwordFromSecret" . -}}
{{- /* OS_API__PASSWORD from the Secret; the file must not hold another. */ -}}
{{- $_ := unset $api "password" -}}
{{- end -}}
{{- else if has $authType (list "admin_token" "none") -}}
{{- if empty $api.endpoint -}}
{{- $_ := set $api "endpoint" (tuple "instance_ha" "internal" "api" $envAll | include "masakari-hostmonitor.endpoints.uri") -}}
{{- end -}}
{{- end -}}
{{- $caBundle := include "masakari-hostmonitor.caBundle" . | fromJson -}}
{{- $caPath := "" -}}
{{- if or $caBundle .Values.endpoints.identity.auth.masakari.cacert -}}
{{- $caPath = include "masakari-hostmonitor.caBundlePath" . -}}
{{- end -}}
{{- if and $caPath (empty $api.cafile) -}}
{{- $_ := set $api "cafile" $caPath -}}
{{- end -}}
{{- $_ := set $conf "api" $api -}}
{{- $k8s := $conf.k8s | default dict -}}
{{- if and (include "masakari-hostmonitor.leaderElection" .) (empty $k8s.leader_election_lease_name) -}}
{{- $_ := set $k8s "leader_election_lease_name" (include "masakari-hostmonitor.leaderElectionLeaseName" .) -}}
{{- end -}}
{{- if and (include "masakari-hostmonitor.statusPortUsed" .) (empty $k8s.status_port) -}}
{{- $_ := set $k8s "status_port" (include "masakari-hostmonitor.statusPort" . | int) -}}
{{- end -}}
{{- if include "masakari-hostmonitor.redfish" . -}}
{{- if empty $k8s.redfish_credentials_file -}}
{{- $_ := set $k8s "redfish_credentials_file" (include "masakari-hostmonitor.redfishCredentialsFile" .) -}}
{{- end -}}
{{- if and .Values.conf.redfish_bmc_map (empty $k8s.redfish_bmc_map_file) -}}
{{- $_ := set $k8s "redfish_bmc_map_file" (include "masakari-hostmonitor.redfishBmcMapFile" .) -}}
{{- end -}}
{{- if and $caBundle (empty $k8s.redfish_ca_file) -}}
{{- $_ := set $k8s "redfish_ca_file" $caPath -}}
{{- end -}}
{{- end -}}
{{- $_ := set $conf "k8s" $k8s -}}
{{- include "masakari-hostmonitor.utils.to_oslo_conf" $conf -}}
{{- end -}}

{{/*
Checks across values that a JSON schema cannot express with a readable
message. Included by the Deployment, so every render runs them.
*/}}
{{- define "masakari-hostmonitor.validate" -}}
{{- $replicas := .Values.pod.replicas.masakari_host_monitor | int -}}
{{- $minAvailable := .Values.pod.lifecycle.disruption_budget.masakari_host_monitor.min_available -}}
{{- if and .Values.manifests.pod_disruption_budget (not (kindIs "string" $minAvailable)) (ge (int $minAvailable) $replicas) -}}
{{- fail (printf "pod.lifecycle.disruption_budget.masakari_host_monitor.min_available (%d) must be below pod.replicas.masakari_host_monitor (%d), or no node could ever be drained" (int $minAvailable) $replicas) -}}
{{- end -}}
{{- if and (include "masakari-hostmonitor.redfish" .) (not .Values.secrets.redfish.credentials.name) -}}
{{- fail "conf.masakarimonitors.k8s.fencing redfish / fence_action redfish-power-off need secrets.redfish.credentials.name: the Secret with the BMC credentials" -}}
{{- end -}}
{{- $k8s := include "masakari-hostmonitor.k8sConf" . | fromJson -}}
{{- $duration := $k8s.leader_election_lease_duration -}}
{{- $deadline := $k8s.leader_election_renew_deadline -}}
{{- $retry := $k8s.leader_election_retry_period -}}
{{- if and $duration $deadline (le (float64 $duration) (float64 $deadline)) -}}
{{- fail (printf "conf.masakarimonitors.k8s.leader_election_renew_deadline (%v) must be shorter than leader_election_lease_duration (%v): a leader must give up before others may take over" $deadline $duration) -}}
{{- end -}}
{{- if and $deadline $retry (le (float64 $deadline) (float64 $retry)) -}}
{{- fail (printf "conf.masakarimonitors.k8s.leader_election_retry_period (%v) must be shorter than leader_election_renew_deadline (%v)" $retry $deadline) -}}
{{- end -}}
{{- if and (include "masakari-hostmonitor.passwordAuth" .) (not (include "masakari-hostmonitor.passwordFromSecret" .)) (not .Values.endpoints.identity.auth.masakari.password) (not (.Values.conf.masakarimonitors.api | default dict).password) -}}
{{- fail "[api] auth_type password needs a password: set secrets.identity.masakari to the Secret of the masakari Keystone user (OpenStack-Helm: masakari-keystone-user), or endpoints.identity.auth.masakari.password" -}}
{{- end -}}
{{- $bundle := .Values.secrets.ca_bundle | default dict -}}
{{- if and $bundle.secret $bundle.config_map -}}
{{- fail "secrets.ca_bundle: set secret or config_map, not both" -}}
{{- end -}}
{{- if and .Values.manifests.prometheus_rule (not .Values.manifests.service_metrics) -}}
{{- fail "manifests.prometheus_rule needs manifests.service_metrics: the alerts select that Service's series" -}}
{{- end -}}
{{- if and .Values.manifests.service_monitor (not .Values.manifests.service_metrics) -}}
{{- fail "manifests.service_monitor needs manifests.service_metrics: the ServiceMonitor scrapes that Service" -}}
{{- end -}}
{{- end -}}

{{/*
The environment of the monitor and of the test Pod: the lease holder's
identity and namespace, and the Keystone password from its Secret.
*/}}
{{- define "masakari-hostmonitor.containerEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- if include "masakari-hostmonitor.passwordFromSecret" . }}
# oslo.config reads OS_<GROUP>__<OPTION> before the conf file.
- name: OS_API__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.identity.masakari }}
      key: {{ .Values.secrets.identity_password_key }}
{{- end }}
{{- end -}}

{{/* The conf, the CA bundle and /tmp, for the monitor and the test Pod. */}}
{{- define "masakari-hostmonitor.volumeMounts" -}}
{{- $caBundle := include "masakari-hostmonitor.caBundle" . | fromJson -}}
- name: etc
  mountPath: /etc/masakarimonitors
  readOnly: true
{{- if $caBundle }}
# One file, beside the image's system CAs.
- name: ca-bundle
  mountPath: {{ include "masakari-hostmonitor.caBundlePath" . }}
  subPath: {{ include "masakari-hostmonitor.caBundlePath" . | base }}
  readOnly: true
{{- end }}
# The root filesystem is read-only; Python and oslo want /tmp.
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "masakari-hostmonitor.volumes" -}}
{{- $caBundle := include "masakari-hostmonitor.caBundle" . | fromJson -}}
- name: etc
  projected:
    # 0440: readable by the monitor's group (fsGroup) only.
    defaultMode: 288
    sources:
      - secret:
          name: {{ include "masakari-hostmonitor.etcSecretName" . }}
{{- if include "masakari-hostmonitor.redfish" . }}
      - secret:
          name: {{ .Values.secrets.redfish.credentials.name }}
          items:
            - key: {{ .Values.secrets.redfish.credentials.key }}
              path: {{ include "masakari-hostmonitor.redfishCredentialsFile" . | base }}
{{- end }}
{{- if $caBundle }}
- name: ca-bundle
{{- if eq $caBundle.kind "Secret" }}
  secret:
    secretName: {{ $caBundle.name }}
{{- else }}
  configMap:
    name: {{ $caBundle.name }}
{{- end }}
    defaultMode: 292
    items:
      - key: {{ $caBundle.key }}
        path: {{ include "masakari-hostmonitor.caBundlePath" . | base }}
{{- end }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.pod.tmp_size_limit }}
{{- end -}}

{{/* Annotations of OSH's annotations.<kind>.<default|component> values. */}}
{{- define "masakari-hostmonitor.oshAnnotations" -}}
{{- $kind := index . 0 -}}
{{- $component := index . 1 -}}
{{- $envAll := index . 2 -}}
{{- $all := index ($envAll.Values.annotations | default dict) $kind | default dict -}}
{{- $merged := merge (deepCopy (index $all $component | default dict)) (deepCopy ($all.default | default dict)) -}}
{{- if $merged -}}
{{ toYaml $merged }}
{{- end -}}
{{- end -}}

{{/*
An endpoint whose internal host is overridden (a plain host or OSH's map
with .host); a map holding only tls settings overrides nothing.
*/}}
{{- define "masakari-hostmonitor.hostOverridden" -}}
{{- $overrides := .host_fqdn_override | default dict -}}
{{- $override := $overrides.internal | default $overrides.default -}}
{{- if kindIs "map" $override -}}
{{- $override = $override.host -}}
{{- end -}}
{{- if $override }}true{{ end -}}
{{- end -}}
