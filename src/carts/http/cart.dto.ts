import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import {
  CURRENCY_PATTERN,
  MAX_ITEM_NAME_LENGTH,
  MAX_MINOR_UNITS,
  MAX_QUANTITY,
  MIN_QUANTITY,
  SKU_PATTERN,
} from '../../shared/domain/index.js';
import { LineDto, SKU_DOC } from '../../shared/http/openapi.js';
import { ReadMetaDto } from '../../shared/http/read-response.js';

const MINOR_UNITS = 'integer number of minor units (e.g. cents) of the cart currency';

export class OpenCartDto {
  @ApiProperty({ pattern: CURRENCY_PATTERN.source, example: 'EUR', description: 'ISO 4217 currency code' })
  @IsString()
  @Matches(CURRENCY_PATTERN, { message: 'currency must be an ISO 4217 code in capitals, e.g. EUR' })
  currency!: string;
}

export class AddItemDto {
  @ApiProperty(SKU_DOC)
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"' })
  sku!: string;

  @ApiProperty({ minLength: 1, maxLength: MAX_ITEM_NAME_LENGTH, example: 'Espresso beans 1 kg' })
  @IsString()
  @Length(1, MAX_ITEM_NAME_LENGTH)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiProperty({
    minimum: MIN_QUANTITY,
    maximum: MAX_QUANTITY,
    example: 2,
    description: 'Adds to the line if the sku is there',
  })
  @IsInt({ message: 'quantity must be an integer' })
  @Min(MIN_QUANTITY)
  @Max(MAX_QUANTITY)
  quantity!: number;

  @ApiProperty({ minimum: 0, maximum: MAX_MINOR_UNITS, example: 1299, description: MINOR_UNITS })
  @IsInt({ message: 'unitPrice must be an integer number of minor units (e.g. cents)' })
  @Min(0)
  @Max(MAX_MINOR_UNITS)
  unitPrice!: number;
}

export class ChangeItemQuantityDto {
  @ApiProperty({ minimum: MIN_QUANTITY, maximum: MAX_QUANTITY, example: 3 })
  @IsInt({ message: 'quantity must be an integer' })
  @Min(MIN_QUANTITY)
  @Max(MAX_QUANTITY)
  quantity!: number;
}

export class AbandonCartDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 500 })
  @IsOptional()
  @IsString()
  @Length(1, 500)
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
