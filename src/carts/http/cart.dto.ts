import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import { CURRENCY_PATTERN, MAX_QUANTITY, MIN_QUANTITY, SKU_PATTERN } from '../../shared/domain/index.js';
import { LineDto, SKU_DOC } from '../../shared/http/openapi.js';
import { CodePointLength, IsOmittable } from '../../shared/http/text.js';
import { ReadMetaDto } from '../../shared/http/read-response.js';

const MINOR_UNITS = 'integer number of minor units (e.g. cents) of the cart currency';

export class OpenCartDto {
  @ApiProperty({ pattern: CURRENCY_PATTERN.source, example: 'EUR', description: 'ISO 4217 currency code' })
  @IsString()
  @Matches(CURRENCY_PATTERN, { message: 'currency must be an ISO 4217 code in capitals, e.g. EUR' })
  currency!: string;
}

/** Refuses a property the client may not set, saying why (the whitelist alone would only say "unknown"). */
function SetByTheShop(property: string): PropertyDecorator {
  return ValidateBy({
    name: 'setByTheShop',
    validator: {
      validate: (value: unknown) => value === undefined,
      defaultMessage: () =>
        `${property} is not accepted: the shop sets names and prices (from its catalog); send only sku and quantity`,
    },
  });
}

export class AddItemDto {
  @ApiProperty({ ...SKU_DOC, description: 'A product of the catalog (GET /catalog/products)' })
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"' })
  sku!: string;

  @ApiProperty({
    type: 'integer',
    minimum: MIN_QUANTITY,
    maximum: MAX_QUANTITY,
    example: 2,
    description: 'Adds to the line if the sku is there',
  })
  @IsInt({ message: 'quantity must be an integer' })
  @Min(MIN_QUANTITY)
  @Max(MAX_QUANTITY)
  quantity!: number;

  @SetByTheShop('unitPrice')
  unitPrice?: never;

  @SetByTheShop('name')
  name?: never;
}

export class ChangeItemQuantityDto {
  @ApiProperty({ type: 'integer', minimum: MIN_QUANTITY, maximum: MAX_QUANTITY, example: 3 })
  @IsInt({ message: 'quantity must be an integer' })
  @Min(MIN_QUANTITY)
  @Max(MAX_QUANTITY)
  quantity!: number;
}

export class AbandonCartDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 500 })
  @IsOmittable()
  @IsString()
  @CodePointLength(1, 500)
  reason?: string;
}

// Answers (documentation only: the controllers answer the query handlers' views).

export class CartViewDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty()
  customerId!: string;
  @ApiProperty({ example: 'EUR' })
  currency!: string;
  @ApiProperty({ enum: ['open', 'checked-out', 'abandoned'] })
  status!: string;
  @ApiProperty({ type: [LineDto], maxItems: 100 })
  lines!: LineDto[];
  @ApiProperty({ description: MINOR_UNITS })
  total!: number;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'Set at checkout' })
  orderId!: string | null;
}

export class CartReadDto {
  @ApiProperty({ type: CartViewDto })
  data!: CartViewDto;
  @ApiProperty({ type: ReadMetaDto })
  meta!: ReadMetaDto;
}
