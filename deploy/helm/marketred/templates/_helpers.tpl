{{- define "marketred.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "marketred.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "marketred.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "marketred.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "marketred.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-env" (include "marketred.fullname" .)) -}}
{{- end -}}

{{/* Settings every MarketRed container gets: the ConfigMap, the Secret, Temporal TLS. */}}
{{- define "marketred.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "marketred.fullname" . }}-config
  - secretRef:
      name: {{ include "marketred.secretName" . }}
{{- end -}}

{{- define "marketred.volumeMounts" -}}
- name: home
  mountPath: /var/lib/marketred
- name: tmp
  mountPath: /tmp
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.clientCertSecret }}
- name: temporal-client-cert
  mountPath: /etc/marketred/temporal-tls/client
  readOnly: true
{{- end }}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.caSecret }}
- name: temporal-ca
  mountPath: /etc/marketred/temporal-tls/ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "marketred.volumes" -}}
- name: home
{{- if .Values.home.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.home.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
- name: tmp
  emptyDir: {}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.clientCertSecret }}
- name: temporal-client-cert
  secret:
    secretName: {{ .Values.temporal.tls.clientCertSecret }}
    defaultMode: 0440
{{- end }}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.caSecret }}
- name: temporal-ca
  secret:
    secretName: {{ .Values.temporal.tls.caSecret }}
    defaultMode: 0444
{{- end }}
{{- end -}}

{{- define "marketred.pod" -}}
serviceAccountName: {{ include "marketred.fullname" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
