import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AUDITED } from '../../audited-aggregates.js';
import { TimeTravel, type StateAt } from '../../time-travel.js';
import { GetStateAtQuery } from './get-state-at.query.js';

@QueryHandler(GetStateAtQuery)
export class GetStateAtHandler implements IQueryHandler<GetStateAtQuery, StateAt> {
  constructor(private readonly timeTravel: TimeTravel) {}

  async execute({ kind, id, actor, point }: GetStateAtQuery): Promise<StateAt> {
    const stream = await this.timeTravel.open(AUDITED[kind], id, actor);
    return this.timeTravel.stateAt(stream, await this.timeTravel.resolve(stream, point));
  }
}
