import { CustomResource, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BreakerFunction } from './breaker-function.ts';
import type { BreakerTable } from './breaker-table.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { PageTopic } from './page-topic.ts';
import { TABLE_ACCESS } from './table-access.ts';

export interface BreakerInitialisationProps {
  readonly deploymentName: string;
  readonly configFile: string;
  readonly serviceName: string;
  readonly table: BreakerTable;
  readonly pages: PageTopic;
  readonly killSwitch: KillSwitch;
}

/**
 * Arms the breaker when the stack is deployed. An absent state is halted, and nothing creates it implicitly, so a
 * fresh deployment is initialised here, audited as `deploy:<stack id>`: a custom resource whose handler
 * (functions/handlers/initialise-breaker.ts) calls initialiseBreaker, which leaves an existing state alone — a
 * redeploy never re-arms a tripped or tampered breaker.
 */
export class BreakerInitialisation extends Construct {
  readonly initialiser: BreakerFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: BreakerInitialisationProps) {
    super(scope, id);
    this.initialiser = new BreakerFunction(this, 'Initialiser', {
      handler: 'initialise-breaker',
      description: `hot-wallet-breaker ${props.deploymentName}: create the armed state at deploy (never overwrites one)`,
      configFile: props.configFile,
      serviceName: props.serviceName,
      timeout: Duration.seconds(60),
    });
    props.table.grant(this.initialiser, TABLE_ACCESS.init);
    props.pages.grantPublish(this.initialiser);
    // It mirrors the armed state it creates; it never has anything to release.
    props.killSwitch.grantMirror(this.initialiser, 'engage');

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.initialiser.function.functionArn,
      resourceType: 'Custom::BreakerInitialisation',
    });
    // The handler needs its permissions when CloudFormation calls it.
    this.resource.node.addDependency(this.initialiser.role);
  }
}
