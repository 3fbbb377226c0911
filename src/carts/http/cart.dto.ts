import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { MAX_MINOR_UNITS, SKU_PATTERN } from '../../shared/domain/index.js';

export class OpenCartDto {
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code in capitals, e.g. EUR' })
  currency!: string;
}

export class AddItemDto {
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"' })
  sku!: string;

  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @IsInt({ message: 'quantity must be an integer' })
  @Min(1)
  @Max(999)
  quantity!: number;

  @IsInt({ message: 'unitPrice must be an integer number of minor units (e.g. cents)' })
  @Min(0)
  @Max(MAX_MINOR_UNITS)
  unitPrice!: number;
}

export class ChangeItemQuantityDto {
  @IsInt({ message: 'quantity must be an integer' })
  @Min(1)
  @Max(999)
  quantity!: number;
}

export class AbandonCartDto {
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;
}
