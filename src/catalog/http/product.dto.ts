import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, ValidateBy, type ValidationOptions } from 'class-validator';
import { CURRENCY_PATTERN, MAX_MINOR_UNITS, SKU_PATTERN } from '../../shared/domain/index.js';
import { CodePointLength, IsItemName, IsNameSearch, IsOmittable, NOT_BLANK } from '../../shared/http/text.js';
import { SKU_DOC } from '../../shared/http/openapi.js';
import { CachedPageQueryDto, ListMetaDto, ReadMetaDto } from '../../shared/http/read-response.js';
import { MAX_PRODUCT_PRICES, MAX_WITHDRAWAL_REASON_LENGTH } from '../domain/product.commands.js';
import type { PriceChanges, Prices } from '../domain/product.events.js';
import { PRODUCT_STATUS_FILTERS } from '../read-model/list-products.query.js';

const SKU_MESSAGE = 'sku must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"';
const PRICES_DOC = `unit prices by ISO 4217 currency code, each an integer number of minor units (e.g. cents) from 0 to ${MAX_MINOR_UNITS}; 1 to ${MAX_PRODUCT_PRICES} currencies`;
const MINOR_UNITS = { type: 'integer', minimum: 0, maximum: MAX_MINOR_UNITS } as const;
/**
 * The keys of a prices map are currency codes: JSON Schema's `propertyNames` (OpenAPI 3.1's word; OpenAPI 3.0
 * has none, and tools that do not know it ignore it, while schemathesis generates keys by it). Not in
 * @nestjs/swagger's types, hence the cast.
 */
const CURRENCY_KEYS = { propertyNames: { pattern: CURRENCY_PATTERN.source } } as object;

/** What is wrong with a prices map, or null: an object of 1..MAX_PRODUCT_PRICES currency → minor units. */
function pricesProblem(value: unknown, removable: boolean): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'prices must be an object of ISO 4217 currency codes to integer minor units, e.g. {"EUR": 1299}';
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return 'prices must name at least one currency';
  if (entries.length > MAX_PRODUCT_PRICES) return `prices names at most ${MAX_PRODUCT_PRICES} currencies`;
  for (const [currency, amount] of entries) {
    if (!CURRENCY_PATTERN.test(currency)) {
      return 'prices must be keyed by ISO 4217 currency codes in capitals, e.g. EUR';
    }
    if (amount === null && removable) continue;
    if (
      typeof amount !== 'number' ||
      !Number.isSafeInteger(amount) ||
      amount < 0 ||
      amount > MAX_MINOR_UNITS
    ) {
      return `prices.${currency} must be an integer number of minor units from 0 to ${MAX_MINOR_UNITS}${removable ? ', or null to remove it' : ''}`;
    }
  }
  return null;
}

/** A prices map; `removable`: an amount may also be null (remove that currency's price). */
function IsPrices(removable: boolean, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPrices',
      validator: {
        validate: (value) => pricesProblem(value, removable) === null,
        defaultMessage: (args) => pricesProblem(args?.value, removable) ?? 'prices are invalid',
      },
    },
    options,
  );
}

export class ListProductDto {
  @ApiProperty(SKU_DOC)
  @IsString()
  @Matches(SKU_PATTERN, { message: SKU_MESSAGE })
  sku!: string;

  @IsItemName('Espresso beans, 1 kg')
  name!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: MINOR_UNITS,
    ...CURRENCY_KEYS,
    minProperties: 1,
    maxProperties: MAX_PRODUCT_PRICES,
    example: { EUR: 1890, USD: 2090 },
    description: PRICES_DOC,
  })
  @IsPrices(false)
  prices!: Prices;
}

export class ChangeProductPricesDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { ...MINOR_UNITS, nullable: true },
    ...CURRENCY_KEYS,
    minProperties: 1,
    maxProperties: MAX_PRODUCT_PRICES,
    example: { EUR: 1790, GBP: null },
    description: `The currencies to set (the others keep their price), ${PRICES_DOC}; null removes a currency's price (one must remain)`,
  })
  @IsPrices(true)
  prices!: PriceChanges;
}

export class WithdrawProductDto {
  @ApiPropertyOptional({
    minLength: 1,
    maxLength: MAX_WITHDRAWAL_REASON_LENGTH,
    pattern: NOT_BLANK.source,
    example: 'discontinued',
    description: 'Not blank',
  })
  @IsOmittable()
  @IsString()
  @CodePointLength(1, MAX_WITHDRAWAL_REASON_LENGTH)
  @Matches(NOT_BLANK, { message: 'reason must not be blank' })
  reason?: string;
}

/** `GET /catalog/products` filters: every value a scalar string (arrays and bracketed keys are refused). */
export class ListProductsDto extends CachedPageQueryDto {
  @ApiPropertyOptional({ enum: PRODUCT_STATUS_FILTERS, default: 'listed' })
  @IsOptional()
  @IsIn(PRODUCT_STATUS_FILTERS, { message: `status must be one of: ${PRODUCT_STATUS_FILTERS.join(', ')}` })
  status?: (typeof PRODUCT_STATUS_FILTERS)[number];

  @ApiPropertyOptional({
    pattern: SKU_PATTERN.source,
    example: 'coffee-',
    description: 'Skus starting with this (case-sensitive)',
  })
  @IsOptional()
  @IsString()
  @Matches(SKU_PATTERN, {
    message: 'sku must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-" (a sku prefix)',
  })
  sku?: string;

  @IsOptional()
  @IsNameSearch('Names starting with this, ignoring case', 'espresso')
  name?: string;
}

// Answers (documentation only: the controller answers the query handlers' views).

export class ProductStateViewDto {
  @ApiProperty(SKU_DOC)
  sku!: string;
  @ApiProperty({ example: 'Espresso beans, 1 kg' })
  name!: string;
  @ApiProperty({ enum: ['listed', 'withdrawn'] })
  status!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: MINOR_UNITS,
    example: { EUR: 1890, USD: 2090 },
    description: 'Unit prices by currency (a withdrawn product shows its last ones)',
  })
  prices!: Prices;
}

export class ProductViewDto extends ProductStateViewDto {
  @ApiProperty({ format: 'date-time', description: 'When the sku was first listed' })
  listedAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When it last changed' })
  updatedAt!: string;
}

export class ProductReadDto {
  @ApiProperty({ type: ProductViewDto })
  data!: ProductViewDto;
  @ApiProperty({ type: ReadMetaDto })
  meta!: ReadMetaDto;
}

export class ProductListItemDto extends ProductViewDto {
  @ApiProperty({ minimum: 0 })
  revision!: number;
}

export class ProductPageDto {
  @ApiProperty({ type: [ProductListItemDto] })
  items!: ProductListItemDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as ?cursor= for the next page; null: last page',
  })
  nextCursor!: string | null;
  @ApiProperty({ type: ListMetaDto })
  meta!: ListMetaDto;
}

export class ProductMutationResultDto {
  @ApiProperty({ ...SKU_DOC, description: 'The product (its sku) the command was about' })
  id!: string;
  @ApiProperty({ minimum: 0, description: 'Revision of its stream after the command (also the ETag)' })
  revision!: number;
}
