import { IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import { MAX_MINOR_UNITS } from '../../shared/domain/money.js';

const TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export class PayOrderDto {
  @IsString()
  @Length(1, 100)
  @Matches(TOKEN, { message: 'paymentId must be printable ASCII without surrounding spaces' })
  paymentId!: string;

  @IsInt({ message: 'amount must be an integer number of minor units (e.g. cents)' })
  @Min(0)
  @Max(MAX_MINOR_UNITS)
  amount!: number;
}

export class ShipOrderDto {
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'carrier must not be blank' })
  carrier!: string;

  @IsString()
  @Length(1, 100)
  @Matches(TOKEN, { message: 'trackingNumber must be printable ASCII without surrounding spaces' })
  trackingNumber!: string;
}

export class RefundOrderDto {
  @IsInt({ message: 'amount must be an integer number of minor units (e.g. cents)' })
  @Min(1)
  @Max(MAX_MINOR_UNITS)
  amount!: number;
}

export class CancelOrderDto {
  @IsString()
  @Length(1, 500)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason!: string;
}
