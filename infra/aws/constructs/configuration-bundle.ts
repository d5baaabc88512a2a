/**
 * The configuration bundle: configuration/ as the nodes run it (the playbooks, the roles and
 * run-profile.sh), without what only the image build and the checks need. The ssm runner's
 * controller and the cloud-init runner's masters fetch it through a presigned URL; local mode
 * serves the same tree (infra/local/configuration-bundle.ts).
 */
export const CONFIGURATION_BUNDLE_EXCLUDES = ['Dockerfile', '.dockerignore', 'README.md', 'check.sh', 'ansible/tests', '**/*.retry', '**/__pycache__'];
