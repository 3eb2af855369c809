package check

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// Paths from this folder (deploy/k8s/check).
const (
	k8sDir      = ".."
	repoRoot    = "../../.."
	apiName     = "mds-api"
	consumerNm  = "mds-consumer"
	gatewayName = "mds-gateway"
)

// The three Deployments and what serves each one's probes.
var grpcServices = map[string]string{apiName: "MDS_API_LISTEN", consumerNm: "MDS_CONSUMER_LISTEN"}

// kustomizations: the base and every overlay.
func kustomizations(t *testing.T) []string {
	dirs := []string{filepath.Join(k8sDir, "base")}
	overlays, err := filepath.Glob(filepath.Join(k8sDir, "overlays", "*", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(overlays) == 0 {
		t.Fatal("no overlay under deploy/k8s/overlays")
	}
	for _, o := range overlays {
		dirs = append(dirs, filepath.Dir(o))
	}
	return dirs
}

// settingNames: every setting .env.example lists, set or commented out ("# NAME=value").
func settingNames(t *testing.T) map[string]bool {
	f, err := os.Open(filepath.Join(repoRoot, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=`)
	names := map[string]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if m := line.FindStringSubmatch(s.Text()); m != nil {
			names[m[1]] = true
		}
	}
	if len(names) < 40 {
		t.Fatalf(".env.example: only %d settings found", len(names))
	}
	return names
}

// gatewayRoutes: the operational routes the gateway registers (handlers.go: {"/health", ...}).
func gatewayRoutes(t *testing.T) map[string]bool {
	src, err := os.ReadFile(filepath.Join(repoRoot, "gateway/internal/gateway/handlers.go"))
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, m := range regexp.MustCompile(`\{"(/[a-z]+)",`).FindAllStringSubmatch(string(src), -1) {
		routes[m[1]] = true
	}
	if !routes["/ready"] {
		t.Fatalf("handlers.go: no /ready route among %v", routes)
	}
	return routes
}

// drainSeconds: the longest a C++ service may take after SIGTERM, from the waits its main.cc
// names: the gRPC server's grace and the Kafka flush.
func drainSeconds(t *testing.T, mainCC string) int {
	src, err := os.ReadFile(filepath.Join(repoRoot, mainCC))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, m := range regexp.MustCompile(`(?:Shutdown|Flush)\(absl::Seconds\((\d+)\)\)`).FindAllStringSubmatch(string(src), -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	if total == 0 {
		t.Fatalf("%s: no shutdown wait found", mainCC)
	}
	return total
}

var drainSources = map[string]string{
	apiName:    "services/api/main.cc",
	consumerNm: "services/consumer/main.cc",
}

// goVersion: the go directive of a go.mod ("1.26.0").
func goVersion(t *testing.T, goMod string) []int {
	src, err := os.ReadFile(goMod)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+(?:\.\d+)*)$`).FindSubmatch(src)
	if m == nil {
		t.Fatalf("%s: no go directive", goMod)
	}
	var v []int
	for _, part := range strings.Split(string(m[1]), ".") {
		n, _ := strconv.Atoi(part)
		v = append(v, n)
	}
	return v
}

// The set-up installs a Go new enough for gateway/go.mod (deploy/lib/install.sh, ensure_go) and
// never lets it fetch another toolchain: this module may not ask for more.
func TestGoVersionIsNoNewerThanTheGateways(t *testing.T) {
	mine, gateway := goVersion(t, "go.mod"), goVersion(t, filepath.Join(repoRoot, "gateway/go.mod"))
	if slices.Compare(mine, gateway) > 0 {
		t.Errorf("go.mod asks for go %v, newer than gateway/go.mod's %v, which is what gets installed", mine, gateway)
	}
}

// Each image is named under images: in the base and in every overlay, so that an overlay sets
// its registry and tag in one place; the containers name the images by those names alone.
func TestImagesAreSetByKustomization(t *testing.T) {
	for _, dir := range kustomizations(t) {
		src, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var k types.Kustomization
		if err := yaml.UnmarshalStrict(src, &k); err != nil {
			t.Fatalf("%s/kustomization.yaml: %v", dir, err)
		}
		named := map[string]bool{}
		for _, img := range k.Images {
			if img.NewTag == "" && img.Digest == "" {
				t.Errorf("%s: image %s has no newTag", dir, img.Name)
			}
			named[img.Name] = true
		}
		for _, want := range []string{apiName, consumerNm, gatewayName} {
			if !named[want] {
				t.Errorf("%s: no images: entry for %s", dir, want)
			}
		}
	}
}

func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	good := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 1}\n"
	if _, err := Decode([]byte(good)); err != nil {
		t.Fatalf("a valid Deployment: %v", err)
	}
	for name, doc := range map[string]string{
		"misspelt field":  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 1}\n",
		"duplicate field": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 1, replicas: 2}\n",
		"wrong type":      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: three}\n",
		"unknown kind":    "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\n",
	} {
		if _, err := Decode([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestManifests(t *testing.T) {
	settings := settingNames(t)
	routes := gatewayRoutes(t)
	for _, dir := range kustomizations(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			objs, err := Render(dir)
			if err != nil {
				t.Fatal(err)
			}
			c := &checker{t: t, objs: objs, settings: settings, routes: routes, envs: map[string]map[string]string{}}
			c.deployments()
			c.budgets()
			c.autoscalers()
			c.services()
			c.addresses()
			c.secrets()
			c.migrationJob()
			if name == "base" {
				if r := c.deployment(apiName).Spec.Replicas; r == nil || *r != 3 {
					t.Errorf("base: mds-api replicas %d, want 3", ptrValue(r))
				}
			} else if !objs.NamespacedOK || len(objs.Namespaces) != 1 {
				t.Errorf("%s: every object needs the overlay's namespace, and the Namespace itself", name)
			}
			if name == "dev" {
				for _, d := range objs.Deployments {
					if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
						t.Errorf("dev: %s replicas %d, want 1", d.Name, ptrValue(d.Spec.Replicas))
					}
				}
			}
		})
	}
}

type checker struct {
	t        *testing.T
	objs     *Objects
	settings map[string]bool
	routes   map[string]bool
	envs     map[string]map[string]string // env's answers, so that each problem is told once
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

func (c *checker) deployment(name string) *appsv1.Deployment {
	for _, d := range c.objs.Deployments {
		if d.Name == name {
			return d
		}
	}
	c.t.Fatalf("no Deployment %s", name)
	return nil
}

func (c *checker) configMap(name string) *corev1.ConfigMap {
	for _, m := range c.objs.ConfigMaps {
		if m.Name == name {
			return m
		}
	}
	return nil
}

func (c *checker) secret(name string) *corev1.Secret {
	for _, s := range c.objs.Secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// env: the settings a container gets, resolved through its ConfigMaps and Secrets; every name
// must be a real setting and every reference must resolve.
func (c *checker) env(owner string, ct corev1.Container) map[string]string {
	key := owner + "/" + ct.Name
	if env, ok := c.envs[key]; ok {
		return env
	}
	out := map[string]string{}
	c.envs[key] = out
	add := func(from string, data map[string]string) {
		for k, v := range data {
			if !c.settings[k] {
				c.t.Errorf("%s: %s sets %s, which is no setting in .env.example", owner, from, k)
			}
			out[k] = v
		}
	}
	for _, ef := range ct.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			m := c.configMap(ef.ConfigMapRef.Name)
			if m == nil {
				c.t.Errorf("%s: no ConfigMap %s", owner, ef.ConfigMapRef.Name)
				continue
			}
			add("ConfigMap "+m.Name, m.Data)
		case ef.SecretRef != nil:
			s := c.secret(ef.SecretRef.Name)
			if s == nil {
				c.t.Errorf("%s: no Secret %s", owner, ef.SecretRef.Name)
				continue
			}
			data := map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
			for k, v := range s.StringData {
				data[k] = v
			}
			add("Secret "+s.Name, data)
		}
		if ef.Prefix != "" {
			c.t.Errorf("%s: an envFrom prefix renames every setting", owner)
		}
	}
	for _, e := range ct.Env {
		if !c.settings[e.Name] {
			c.t.Errorf("%s: env %s is no setting in .env.example", owner, e.Name)
		}
		if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
			ref := e.ValueFrom.ConfigMapKeyRef
			if m := c.configMap(ref.Name); m == nil || !hasKey(m.Data, ref.Key) {
				c.t.Errorf("%s: env %s: no key %s in ConfigMap %s", owner, e.Name, ref.Key, ref.Name)
			}
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			if s := c.secret(ref.Name); s == nil || s.Data[ref.Key] == nil {
				c.t.Errorf("%s: env %s: no key %s in Secret %s", owner, e.Name, ref.Key, ref.Name)
			}
		}
		out[e.Name] = e.Value
	}
	return out
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func containerPort(ct corev1.Container, name string) int32 {
	for _, p := range ct.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// portOf: the port of a listen address ("0.0.0.0:50051", ":8000", "mds-api:50051").
func portOf(addr string) int32 {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(port)
	return int32(n)
}

func preStopSleep(ct corev1.Container) int {
	if ct.Lifecycle == nil || ct.Lifecycle.PreStop == nil {
		return 0
	}
	if s := ct.Lifecycle.PreStop.Sleep; s != nil {
		return int(s.Seconds)
	}
	if e := ct.Lifecycle.PreStop.Exec; e != nil && len(e.Command) == 2 && e.Command[0] == "sleep" {
		n, _ := strconv.Atoi(e.Command[1])
		return n
	}
	return 0
}

func (c *checker) deployments() {
	var names []string
	for _, d := range c.objs.Deployments {
		names = append(names, d.Name)
	}
	slices.Sort(names)
	if want := []string{apiName, consumerNm, gatewayName}; !slices.Equal(names, want) {
		c.t.Fatalf("Deployments %v, want %v", names, want)
	}
	for _, d := range c.objs.Deployments {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			c.t.Errorf("%s: selector %v does not select its own pods", d.Name, d.Spec.Selector)
		}
		pod := d.Spec.Template.Spec
		if len(pod.Containers) != 1 {
			c.t.Errorf("%s: %d containers, want 1", d.Name, len(pod.Containers))
			continue
		}
		for _, ct := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
			c.resources(d.Name+"/"+ct.Name, ct)
			if ct.ReadinessProbe == nil || ct.LivenessProbe == nil {
				c.t.Errorf("%s/%s: needs readiness and liveness probes", d.Name, ct.Name)
			}
			if !strings.Contains(ct.Image[strings.LastIndex(ct.Image, "/")+1:], ":") {
				c.t.Errorf("%s/%s: image %q has no tag (set it under images:)", d.Name, ct.Name, ct.Image)
			}
		}
		ct := pod.Containers[0]
		env := c.env(d.Name, ct)
		grace := int64(30)
		if pod.TerminationGracePeriodSeconds != nil {
			grace = *pod.TerminationGracePeriodSeconds
		}
		if listen, ok := grpcServices[d.Name]; ok {
			c.grpcProbes(d.Name, ct, env[listen])
			if drain := preStopSleep(ct) + drainSeconds(c.t, drainSources[d.Name]); grace <= int64(drain) {
				c.t.Errorf("%s: terminationGracePeriodSeconds %d, not more than its drain (%d s)", d.Name, grace, drain)
			}
		} else {
			c.gatewayProbes(ct, env)
			timeout := 15 * time.Second // GATEWAY_SHUTDOWN_TIMEOUT's default
			if v := env["GATEWAY_SHUTDOWN_TIMEOUT"]; v != "" {
				var err error
				if timeout, err = time.ParseDuration(v); err != nil {
					c.t.Errorf("GATEWAY_SHUTDOWN_TIMEOUT=%q: %v", v, err)
				}
			}
			drain := time.Duration(preStopSleep(ct))*time.Second + timeout
			if time.Duration(grace)*time.Second <= drain {
				c.t.Errorf("%s: terminationGracePeriodSeconds %d, not more than its drain (%s)", d.Name, grace, drain)
			}
		}
		c.scrapeAnnotations(d, ct, env)
	}
}

func (c *checker) resources(owner string, ct corev1.Container) {
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := ct.Resources.Requests[r]
		lim, okLim := ct.Resources.Limits[r]
		if !okReq || !okLim {
			c.t.Errorf("%s: needs a %s request and limit", owner, r)
			continue
		}
		if req.Cmp(lim) > 0 {
			c.t.Errorf("%s: %s request %s above its limit %s", owner, r, req.String(), lim.String())
		}
	}
}

// grpcProbes: the C++ services answer grpc.health.v1 on their gRPC port; Kubernetes asks it.
func (c *checker) grpcProbes(name string, ct corev1.Container, listen string) {
	port := containerPort(ct, "grpc")
	if port == 0 || port != portOf(listen) {
		c.t.Errorf("%s: container port grpc %d, but the service listens on %q", name, port, listen)
	}
	for kind, p := range map[string]*corev1.Probe{"readiness": ct.ReadinessProbe, "liveness": ct.LivenessProbe, "startup": ct.StartupProbe} {
		if p == nil || p.GRPC == nil || p.GRPC.Port != port {
			c.t.Errorf("%s: %s probe must be a gRPC health check on port %d", name, kind, port)
		}
	}
	if ct.StartupProbe != nil && ct.LivenessProbe != nil {
		// Migrations run before the port opens: the start-up probe must outlast the liveness one.
		startup := ct.StartupProbe.PeriodSeconds * ct.StartupProbe.FailureThreshold
		if startup < 120 {
			c.t.Errorf("%s: the start-up probe gives only %d s for migrations and connections", name, startup)
		}
	}
}

func (c *checker) gatewayProbes(ct corev1.Container, env map[string]string) {
	port := containerPort(ct, "http")
	listen := env["GATEWAY_LISTEN"]
	if listen == "" {
		listen = ":8000"
	}
	if port == 0 || port != portOf(listen) {
		c.t.Errorf("gateway: container port http %d, but GATEWAY_LISTEN is %q", port, listen)
	}
	r, l := ct.ReadinessProbe, ct.LivenessProbe
	if r == nil || r.HTTPGet == nil || r.HTTPGet.Path != "/ready" || r.HTTPGet.Port.String() != "http" {
		c.t.Errorf("gateway: readiness must be GET /ready on port http")
	}
	if l == nil || l.HTTPGet == nil || l.HTTPGet.Path == "/ready" || !c.routes[l.HTTPGet.Path] {
		c.t.Errorf("gateway: liveness must GET a route the gateway serves other than /ready (%v)", c.routes)
	}
}

func (c *checker) scrapeAnnotations(d *appsv1.Deployment, ct corev1.Container, env map[string]string) {
	a := d.Spec.Template.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" {
		c.t.Errorf("%s: pods need prometheus.io/scrape \"true\" and prometheus.io/path /metrics", d.Name)
	}
	port, _ := strconv.Atoi(a["prometheus.io/port"])
	found := false
	for _, p := range ct.Ports {
		found = found || int(p.ContainerPort) == port
	}
	if !found {
		c.t.Errorf("%s: prometheus.io/port %q is no container port", d.Name, a["prometheus.io/port"])
	}
	metricsSetting := map[string]string{apiName: "MDS_API_METRICS_LISTEN", consumerNm: "MDS_CONSUMER_METRICS_LISTEN"}[d.Name]
	if metricsSetting != "" && int(portOf(env[metricsSetting])) != port {
		c.t.Errorf("%s: scraped on %d but %s is %q", d.Name, port, metricsSetting, env[metricsSetting])
	}
}

// selects: the Deployments whose pods the selector picks.
func (c *checker) selects(sel *metav1.LabelSelector) []string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return nil
	}
	var out []string
	for _, d := range c.objs.Deployments {
		if s.Matches(labels.Set(d.Spec.Template.Labels)) {
			out = append(out, d.Name)
		}
	}
	return out
}

func (c *checker) budgets() {
	covered := map[string]int{}
	for _, b := range c.objs.Budgets {
		picked := c.selects(b.Spec.Selector)
		if len(picked) != 1 {
			c.t.Errorf("PodDisruptionBudget %s selects %v, want one Deployment", b.Name, picked)
			continue
		}
		covered[picked[0]]++
		if b.Spec.MinAvailable == nil && b.Spec.MaxUnavailable == nil {
			c.t.Errorf("PodDisruptionBudget %s: neither minAvailable nor maxUnavailable", b.Name)
		}
		// A budget that allows no eviction at all blocks every node drain.
		if m := b.Spec.MinAvailable; m != nil && m.IntValue() >= int(*c.deployment(picked[0]).Spec.Replicas) {
			c.t.Errorf("PodDisruptionBudget %s: minAvailable %s leaves nothing to evict", b.Name, m.String())
		}
	}
	for _, d := range c.objs.Deployments {
		if covered[d.Name] != 1 {
			c.t.Errorf("%s: %d PodDisruptionBudgets, want 1", d.Name, covered[d.Name])
		}
	}
}

func (c *checker) autoscalers() {
	scaled := map[string]bool{}
	for _, h := range c.objs.Autoscalers {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" {
			c.t.Errorf("HorizontalPodAutoscaler %s scales a %s %s", h.Name, ref.APIVersion, ref.Kind)
			continue
		}
		d := c.deployment(ref.Name)
		scaled[d.Name] = true
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			c.t.Errorf("HorizontalPodAutoscaler %s: min %v, max %d", h.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas)
			continue
		}
		// The autoscaler takes over replicas: both must agree on the floor.
		if *h.Spec.MinReplicas != *d.Spec.Replicas {
			c.t.Errorf("HorizontalPodAutoscaler %s: minReplicas %d, Deployment replicas %d", h.Name, *h.Spec.MinReplicas, *d.Spec.Replicas)
		}
		if len(h.Spec.Metrics) == 0 {
			c.t.Errorf("HorizontalPodAutoscaler %s: no metrics", h.Name)
		}
		for _, m := range h.Spec.Metrics {
			if m.Resource == nil {
				continue
			}
			ct := d.Spec.Template.Spec.Containers[0]
			if _, ok := ct.Resources.Requests[m.Resource.Name]; !ok {
				c.t.Errorf("HorizontalPodAutoscaler %s scales on %s, which %s does not request", h.Name, m.Resource.Name, d.Name)
			}
		}
	}
	for _, want := range []string{apiName, gatewayName} {
		if !scaled[want] {
			c.t.Errorf("%s: no HorizontalPodAutoscaler", want)
		}
	}
	// Consumer replicas beyond the topic's partitions would idle; it is sized by hand.
	if scaled[consumerNm] {
		c.t.Errorf("%s: autoscaled, but its useful size is bounded by the partitions", consumerNm)
	}
}

func (c *checker) services() {
	for _, d := range c.objs.Deployments {
		found := false
		for _, s := range c.objs.Services {
			if s.Name != d.Name {
				continue
			}
			found = true
			picked := c.selects(&metav1.LabelSelector{MatchLabels: s.Spec.Selector})
			if !slices.Equal(picked, []string{d.Name}) {
				c.t.Errorf("Service %s selects %v", s.Name, picked)
			}
			for _, p := range s.Spec.Ports {
				if p.TargetPort.String() != "" && containerPort(d.Spec.Template.Spec.Containers[0], p.TargetPort.String()) == 0 {
					c.t.Errorf("Service %s: targetPort %s is no named port of %s", s.Name, p.TargetPort.String(), d.Name)
				}
			}
		}
		if !found {
			c.t.Errorf("%s: no Service of the same name", d.Name)
		}
	}
}

func (c *checker) servicePort(name string) string {
	for _, s := range c.objs.Services {
		if s.Name == name {
			for _, p := range s.Spec.Ports {
				if p.Name == "grpc" {
					return fmt.Sprintf("%s:%d", name, p.Port)
				}
			}
		}
	}
	return ""
}

// addresses: the gateway reaches each backend through its Service.
func (c *checker) addresses() {
	gw := c.deployment(gatewayName)
	env := c.env(gatewayName, gw.Spec.Template.Spec.Containers[0])
	for setting, svc := range map[string]string{"MDS_API_ADDR": apiName, "MDS_CONSUMER_ADDR": consumerNm} {
		want := c.servicePort(svc)
		if got := strings.TrimPrefix(env[setting], "dns:///"); want == "" || got != want {
			c.t.Errorf("gateway: %s=%q, want the Service %q", setting, env[setting], want)
		}
	}
}

// secrets: credentials live in the Secret, never in a ConfigMap.
func (c *checker) secrets() {
	for _, key := range []string{"DATABASE_URL", "ALPHA_VANTAGE_API_KEY", "FINNHUB_API_KEY", "KAFKA_CONFIG"} {
		for _, m := range c.objs.ConfigMaps {
			if hasKey(m.Data, key) {
				c.t.Errorf("ConfigMap %s holds %s, which belongs in the Secret", m.Name, key)
			}
		}
	}
	api := c.env(apiName, c.deployment(apiName).Spec.Template.Spec.Containers[0])
	if !strings.HasPrefix(api["DATABASE_URL"], "postgresql://") {
		c.t.Errorf("mds-api: DATABASE_URL %q is no postgresql:// URL", api["DATABASE_URL"])
	}
	if api["KAFKA_BOOTSTRAP_SERVERS"] == "" {
		c.t.Errorf("mds-api: KAFKA_BOOTSTRAP_SERVERS is required")
	}
}

// migrationJob: `mds-api migrate` once, from the same image as mds-api.
func (c *checker) migrationJob() {
	apiImage := c.deployment(apiName).Spec.Template.Spec.Containers[0].Image
	var found int
	for _, j := range c.objs.Jobs {
		pod := j.Spec.Template.Spec
		if len(pod.Containers) != 1 || !slices.Equal(pod.Containers[0].Args, []string{"migrate"}) {
			continue
		}
		found++
		ct := pod.Containers[0]
		if ct.Image != apiImage {
			c.t.Errorf("Job %s runs %s, mds-api runs %s", j.Name, ct.Image, apiImage)
		}
		if pod.RestartPolicy != corev1.RestartPolicyNever && pod.RestartPolicy != corev1.RestartPolicyOnFailure {
			c.t.Errorf("Job %s: restartPolicy %q", j.Name, pod.RestartPolicy)
		}
		if p := j.Spec.Parallelism; p != nil && *p != 1 {
			c.t.Errorf("Job %s: parallelism %d", j.Name, *p)
		}
		if j.Spec.TTLSecondsAfterFinished == nil {
			c.t.Errorf("Job %s: a finished Job must go, or the next rollout cannot change its image", j.Name)
		}
		c.resources("Job "+j.Name, ct)
		if env := c.env("Job "+j.Name, ct); env["DATABASE_URL"] == "" {
			c.t.Errorf("Job %s: no DATABASE_URL", j.Name)
		}
	}
	if found != 1 {
		c.t.Errorf("%d Jobs run `mds-api migrate`, want 1", found)
	}
}
