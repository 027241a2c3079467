/** Where benchmark slides go: outside the repository, never committed (multi-gigabyte files). */
export const DEFAULT_BENCH_FOLDER = '/tmp/glomseg-bench';
