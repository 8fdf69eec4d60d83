export { KubeProxy, type KubeProxyOptions } from './kube-proxy.js';
