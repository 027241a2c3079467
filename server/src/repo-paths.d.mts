/** Types of repo-paths.mjs: absolute paths of the repository and of the read-only data beside it. */
export declare const REPO_ROOT: string;
export declare const MODELS: string;
export declare const SHARED_DATA: string;
export declare const HUBMAP_VU: string;
export declare const EVAL_REGION: string;
export declare const EVAL_REGION_SLIDE: string;
export declare const EVAL_REGION_GEOJSON: string;
export declare const WSI: string;
