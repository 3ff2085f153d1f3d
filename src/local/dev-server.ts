// PLACEHOLDER: the local control plane's server process; replaced by the dev helper.
export {};
