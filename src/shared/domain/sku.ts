/** A stock keeping unit: 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-" (safe in URLs and filters). */
export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
