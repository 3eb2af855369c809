// Package check renders the Kubernetes manifests of deploy/k8s with kustomize's own library and
// decodes every object into the Kubernetes API types, strictly: an unknown or duplicated field
// is an error, as it would be for a server with field validation on. No cluster and no kubectl.
package check

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Objects is one kustomization's output, by kind.
type Objects struct {
	Deployments  []*appsv1.Deployment
	Services     []*corev1.Service
	ConfigMaps   []*corev1.ConfigMap
	Secrets      []*corev1.Secret
	Namespaces   []*corev1.Namespace
	Jobs         []*batchv1.Job
	Budgets      []*policyv1.PodDisruptionBudget
	Autoscalers  []*autoscalingv2.HorizontalPodAutoscaler
	NamespacedOK bool // every namespaced object names a namespace
}

// decoder accepts exactly the API groups the manifests use; any other kind is an error.
var decoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		appsv1.AddToScheme, autoscalingv2.AddToScheme, batchv1.AddToScheme,
		corev1.AddToScheme, policyv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}()

// Decode decodes one object strictly.
func Decode(yaml []byte) (runtime.Object, error) {
	obj, _, err := decoder.Decode(yaml, nil, nil)
	return obj, err
}

// Render runs `kustomize build dir` in process and decodes its output.
func Render(dir string) (*Objects, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out := &Objects{NamespacedOK: true}
	for _, r := range resources.Resources() {
		yaml, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
		obj, err := Decode(yaml)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			out.Deployments = append(out.Deployments, o)
		case *corev1.Service:
			out.Services = append(out.Services, o)
		case *corev1.ConfigMap:
			out.ConfigMaps = append(out.ConfigMaps, o)
		case *corev1.Secret:
			out.Secrets = append(out.Secrets, o)
		case *corev1.Namespace:
			out.Namespaces = append(out.Namespaces, o)
			continue
		case *batchv1.Job:
			out.Jobs = append(out.Jobs, o)
		case *policyv1.PodDisruptionBudget:
			out.Budgets = append(out.Budgets, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			out.Autoscalers = append(out.Autoscalers, o)
		default:
			return nil, fmt.Errorf("%s %s: a kind the checks do not know", r.GetKind(), r.GetName())
		}
		if r.GetNamespace() == "" {
			out.NamespacedOK = false
		}
	}
	return out, nil
}
