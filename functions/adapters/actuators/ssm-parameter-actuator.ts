import type { Actuator, ActuatorMode, ApplyOptions, LayerReading } from '../../core/actuators/actuator.ts';
import type { BreakerState } from '../../core/state.ts';
import type { SsmKillSwitchMirror } from '../ssm/ssm-kill-switch-mirror.ts';

/** The SSM parameter mirror as a kill-switch layer: its result audited, its failure paged. */
export class SsmParameterActuator implements Actuator {
  readonly id = 'ssm-parameter';
  readonly follows = 'scopes' as const;
  readonly description: string;

  constructor(private readonly mirror: SsmKillSwitchMirror) {
    this.description = `SSM kill-switch parameter ${mirror.parameterName}`;
  }

  async apply(_mode: ActuatorMode, state: BreakerState, options?: ApplyOptions): Promise<Record<string, unknown>> {
    await this.mirror.mirror(state, { repair: options?.repair });
    return { parameter: this.mirror.parameterName, version: state.version };
  }

  readBack(): Promise<LayerReading> {
    return this.mirror.readBack();
  }

  manualSteps(): string[] {
    return [
      `aws ssm get-parameter --name ${this.mirror.parameterName}   (signers polling it see a stale state)`,
      "It is rewritten from the table at the next flush; check the pollers' ssm:PutParameter permission.",
    ];
  }
}
